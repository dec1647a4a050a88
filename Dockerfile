# One image for api, worker, beat, flower and migrate; the compose file picks the command.
# The base images are build arguments, so a local mirror (or deploy/local-images.sh) can stand in for them.
# The image holds the locked environment and ELS itself, installed as a package: no uv, no package cache,
# no sources beside what is installed.
ARG PYTHON_IMAGE=python:3.11-slim
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
# The image's own Python, and its CA store (a site's TLS-inspecting proxy included).
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/els UV_PYTHON_DOWNLOADS=never \
    UV_NATIVE_TLS=1 UV_NO_CACHE=1
WORKDIR /src
# The locked dependencies first, as their own layer: only a change of pyproject.toml or uv.lock rebuilds it.
COPY pyproject.toml uv.lock ./
RUN touch README.md && uv sync --locked --no-dev --no-install-project
COPY . .
RUN uv sync --locked --no-dev --no-editable

FROM ${PYTHON_IMAGE}
# .els/blobs exists in the image, so a fresh named volume mounted there is the els user's too.
RUN useradd --system --uid 10001 els && mkdir -p /app/.els/blobs && chown -R els /app/.els
ENV PATH=/opt/els/bin:$PATH PYTHONUNBUFFERED=1
WORKDIR /app
USER els
CMD ["els", "api"]
# Last, so a code change rebuilds one step here (COPY copies as root whatever USER says).
COPY --from=build /opt/els /opt/els
