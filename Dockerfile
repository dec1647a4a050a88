# One image for api, worker, beat, flower and migrate; the compose file picks the command.
FROM python:3.11-slim
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/els PATH=/opt/els/bin:$PATH
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY . .
RUN uv sync --locked --no-dev && useradd --system --uid 10001 els && mkdir -p /app/.els && chown els /app/.els
USER els
EXPOSE 8000 5555
CMD ["els", "api"]
