FROM alpine:3.22 AS build
USER 10001
FROM alpine:3.22
USER root
CMD ["sh"]
