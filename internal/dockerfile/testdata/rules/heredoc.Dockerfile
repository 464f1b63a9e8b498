# syntax=docker/dockerfile:1
FROM debian:bookworm
RUN <<EOT
apt-get update
apt-get install -y curl
EOT
RUN apt-get update && \
    # a comment the shell would not see as the Dockerfile does
    apt-get install -y jq
USER 10001
