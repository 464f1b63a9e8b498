FROM alpine:3.22
ADD --chown=10001 config/ /etc/app/
ADD rootfs.tar.gz /
ADD https://example.com/tool /usr/local/bin/tool
add *.conf /etc/
USER 10001
