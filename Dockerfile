# Chorus for production: the package and its pinned runtime dependencies, no dev tools,
# run as an unprivileged user. Build: docker build -t chorus .  Run: see compose.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
# constraints.txt pins every package; only the runtime ones (no [test] extra) are installed
RUN pip install -c constraints.txt . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin chorus \
    && mkdir -p /data \
    && chown chorus /data \
    && rm -rf /app/bot /app/adapters /app/storage

USER chorus
WORKDIR /data
ENV DATA_DIR=/data \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080 \
    LOG_FORMAT=json
EXPOSE 8080
STOPSIGNAL SIGTERM
# alive while the event loop answers; readiness (/readyz) is for the load balancer
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('WEB_PORT', '8080')}/healthz\", timeout=2).status != 200)"]
CMD ["chorus", "run"]
