FROM golang:1.26 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app .

FROM build AS test
RUN apt-get update && apt-get install -y gcc

FROM debian:bookworm-slim
COPY --from=build /out/app /usr/local/bin/app
RUN apt-get update && apt-get install -y ca-certificates
USER 10001
ENTRYPOINT ["app"]
