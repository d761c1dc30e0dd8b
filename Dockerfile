# syntax=docker/dockerfile:1
# captionbot: the web playground and API on :8080, and the chat bots when
# their tokens are set (CAPTIONBOT_TELEGRAM_TOKEN, CAPTIONBOT_DISCORD_TOKEN).
#   docker build -t captionbot .
#   docker run --rm -p 127.0.0.1:8080:8080 -v captionbot-data:/data captionbot
# The settings store (and ONNX Runtime's optimised-model cache) live in the
# /data volume; the config is /etc/captionbot/captionbot.toml (mount your own
# over it, e.g. with [http] api_keys before publishing the port to others).

FROM golang:1.26-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm libturbojpeg0-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Fetches ONNX Runtime into .ort/ (npm pack, checksum checked) and builds
# ./captionbot with -tags turbojpeg.
RUN rm -rf .ort && scripts/setup.sh \
 && mkdir -p /out/models /out/lib \
 && cp captionbot /out/ \
 && cp .ort/libonnxruntime.so.1 /out/lib/ \
 && cp models/*.onnx models/*.txt models/*.json /out/models/

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libturbojpeg0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin captionbot \
 && mkdir -p /data && chown captionbot:captionbot /data
COPY --from=build /out/ /opt/captionbot/
COPY contrib/captionbot.docker.toml /etc/captionbot/captionbot.toml
ENV XDG_CACHE_HOME=/data/cache
USER captionbot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz >/dev/null || exit 1
ENTRYPOINT ["/opt/captionbot/captionbot"]
CMD ["serve", "--config", "/etc/captionbot/captionbot.toml"]
