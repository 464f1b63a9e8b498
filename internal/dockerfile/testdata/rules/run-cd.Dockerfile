FROM alpine:3.22
RUN cd /opt && tar xf /tmp/x.tar
USER 10001
