FROM debian:bookworm AS base
RUN apt-get update && apt-get install -y curl
RUN apt-get -o Acquire::Retries=3 install -y git
FROM debian:bookworm AS two
RUN apt-get update && apt-get install -y curl
RUN env DEBIAN_FRONTEND=noninteractive apt-get install -y tzdata
FROM debian:bookworm AS three
RUN apt-get update && apt-get install -y curl
RUN xargs apt-get install -y < /pkgs
FROM debian:bookworm AS four
RUN apt-get update && apt-get install -y curl
ONBUILD RUN apt-get install -y git
FROM debian:bookworm
RUN apt-get update && apt-get install -y curl
USER 1
