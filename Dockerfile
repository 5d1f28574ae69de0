# quoter: the bot and the sandbox venue (`quoter run`, `quoter sandbox`), for docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY quoter ./quoter
COPY strategies ./strategies
RUN pip install --no-cache-dir . && useradd --create-home --uid 10001 quoter \
    && mkdir -p /app/var && chown quoter /app/var
COPY config ./config
USER quoter
ENTRYPOINT ["quoter"]
CMD ["run", "--config", "config/compose/quoter.toml"]
