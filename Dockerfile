# gptbot in a container: `gptbot serve` (gunicorn, webhook + embedded worker) by default,
# `gptbot worker` or any other subcommand when given one (`docker run IMAGE worker`).
# compose.yaml runs web + worker + Redis from this image; docs/deployment.md explains it.
#
#   docker build -t gptbot .
#   docker run --env-file .env -p 8000:8000 -v gptbot-data:/data gptbot

ARG PYTHON_VERSION=3.11

# --- build: a wheel of the package only (no tests, no dev tools) ----------------------------
FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY gptbot ./gptbot
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- runtime ---------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GPTBOT_DATA_DIR=/data

# The package and its runtime dependencies only: no [dev], [local] or [otel] extras.
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels

# A dedicated, unprivileged user (numeric, so `runAsNonRoot` can verify it) owning the data
# directory: SQLite files when no Redis is configured, downloaded model weights.
RUN groupadd --system --gid 10001 gptbot \
    && useradd --system --uid 10001 --gid gptbot --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin gptbot \
    && mkdir -p /data && chown gptbot:gptbot /data
WORKDIR /data
USER 10001:10001

EXPOSE 8000
# SIGTERM lets running answers finish (GPTBOT_SHUTDOWN_GRACE_S, 25 s by default): give the
# container more than that before it is killed (compose.yaml: stop_grace_period: 40s).
STOPSIGNAL SIGTERM
# No curl in a slim image: ask /healthz with Python's own urllib (non-2xx or no answer = 1).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["gptbot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
