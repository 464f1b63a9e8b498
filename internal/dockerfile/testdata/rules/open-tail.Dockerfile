FROM debian:bookworm
RUN apt-get update && apt-get install -y curl;
RUN apt-get update;
RUN apt-get install -y jq
USER 1
