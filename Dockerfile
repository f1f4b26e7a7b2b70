# termgate: the gateway and control plane, `termgate serve` on port 8000.
#
#   docker build -t termgate:0.1.0 .
#   docker run --rm termgate:0.1.0 db upgrade        # any termgate command
#
# No secret is baked in: give TERMGATE_SECRET_KEY_FILE, TERMGATE_DATABASE_URL_FILE, ... at run
# time (docs/operations.md, deploy/compose.yaml). Pin the base images by digest in your own
# build (`python:3.11-slim-bookworm@sha256:...`) for reproducible images.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# The locked dependencies first, in their own layer: a change of the code does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project
COPY src ./src
COPY terms ./terms
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 termgate \
    && useradd --system --uid 10001 --gid termgate --home-dir /var/lib/termgate \
        --no-create-home --shell /usr/sbin/nologin termgate \
    && install -d -o termgate -g termgate -m 0700 /var/lib/termgate
# The code and its environment belong to root: the termgate user can read them, not change them.
COPY --from=build /app /app
COPY deploy/healthcheck.py /app/deploy/healthcheck.py
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TERMGATE_VAR_DIR=/var/lib/termgate \
    TERMGATE_HOST=0.0.0.0 \
    TERMGATE_PORT=8000
WORKDIR /var/lib/termgate
VOLUME ["/var/lib/termgate"]
# Numeric, so that a runtime (Kubernetes runAsNonRoot) can tell it is not root without the
# image's /etc/passwd.
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py"]
ENTRYPOINT ["termgate"]
CMD ["serve"]
