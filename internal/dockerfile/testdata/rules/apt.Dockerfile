FROM ubuntu:24.04 AS base
RUN apt-get update
RUN apt-get install -y \
      curl \
      ca-certificates
USER 10001
