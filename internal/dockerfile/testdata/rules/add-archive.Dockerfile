FROM alpine:3.22
ADD release /opt/
ADD config/ /etc/app/
USER 1
