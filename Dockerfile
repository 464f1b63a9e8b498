# syntax=docker/dockerfile:1
# ferry: a static binary on distroless, running as a non-root user.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cmd ./cmd
COPY internal ./internal
COPY manifest ./manifest
COPY templates ./templates
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ferry ./cmd/ferry \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ferry /ferry
# The SQLite default lives on a volume owned by the non-root user.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV FERRY_LISTEN=0.0.0.0:8080 \
    FERRY_DATABASE=sqlite:/data/ferry.db \
    FERRY_LOG_FORMAT=json
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/ferry"]
CMD ["serve"]
