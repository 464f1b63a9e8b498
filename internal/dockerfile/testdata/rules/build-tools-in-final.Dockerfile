FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc make libssl-dev && rm -rf /var/lib/apt/lists/*
COPY src /src
RUN make -C /src install
USER 10001
CMD ["/usr/local/bin/app"]
