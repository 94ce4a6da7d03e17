# syntax=docker/dockerfile:1
# The application image: the API (`uvicorn service.main:app`) and the flows (`python -m flows.serve`).
FROM python:3.11-slim-bookworm

# LibreOffice makes the optional PDF/A-2b copies; build with --build-arg PDFA=false for a slimmer image without them.
ARG PDFA=true
RUN if [ "$PDFA" = "true" ]; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libreoffice-writer-nogui fonts-liberation2 \
      && rm -rf /var/lib/apt/lists/*; \
    fi

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1 \
    IOP_ENV=production \
    IOP_APP_DIR=/app \
    MALLOC_ARENA_MAX=2
WORKDIR /app

# Dependencies first, in their own layer: source edits then rebuild in seconds.
COPY pyproject.toml README.md ./
RUN mkdir -p service flows storage \
    && touch service/__init__.py flows/__init__.py storage/__init__.py \
    && pip install . \
    && pip uninstall -y iop-partnerskap

# The source tree stays as it is in the repository: migrations, templates and alembic.ini are found relative to it.
COPY alembic.ini prefect.yaml ./
COPY service ./service
COPY flows ./flows
COPY storage ./storage
COPY templates ./templates
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /app iop \
    && mkdir -p /app/var \
    && chown iop /app/var
USER iop

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"
# Migrations first (idempotent), then the API. No proxy headers from uvicorn: the app itself takes the client address (login
# throttling) from X-Forwarded-For only when the peer is one of IOP_TRUSTED_PROXIES (the reverse proxy).
# An idle keep-alive connection is closed after 5 s and request headers are capped at 16 KiB; bodies are bounded by
# the app itself (size, and 30 s of silence mid-body: service/bodylimit.py). MALLOC_ARENA_MAX above: one malloc arena
# per worker thread kept 8 x 24 MB of parallel uploads' memory for ever (bench/memory.py, 3 rounds: 136 -> 625 MB; now 170 MB).
# service.serve starts IOP_WEB_CONCURRENCY uvicorn workers (0, the image's default: one per CPU), with these limits.
ENV IOP_WEB_CONCURRENCY=0
CMD ["sh", "-c", "python -m service.migrate && exec python -m service.serve --host 0.0.0.0 --port 8000"]
