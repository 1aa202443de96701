# The app image: one image, one console script (`dataget`), a service per subcommand (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dataget dataget
COPY producers producers
COPY stream_processors stream_processors
COPY sinks sinks
COPY web web
COPY schemas schemas
RUN pip install --no-cache-dir . && useradd --create-home dataget
USER dataget
ENV DATAGET_STATE_DIR=/home/dataget/state
ENTRYPOINT ["dataget"]
