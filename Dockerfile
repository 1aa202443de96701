# The app image: one image, one console script (`dataget`), a service per subcommand (see docker-compose.yml).
# producers/record_tree.pyx is compiled in a build stage, so the app image carries no compiler.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY dataget dataget
COPY producers producers
COPY stream_processors stream_processors
COPY sinks sinks
COPY web web
COPY schemas schemas
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels && useradd --create-home dataget
USER dataget
ENV DATAGET_STATE_DIR=/home/dataget/state
ENTRYPOINT ["dataget"]
