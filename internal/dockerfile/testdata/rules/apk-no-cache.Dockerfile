FROM alpine:3.22
RUN apk update && apk add curl tzdata
USER 10001
ENTRYPOINT ["curl"]
