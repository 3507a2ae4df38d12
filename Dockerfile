# arxiv-digest service: serves the digest, feeds and archive, and runs the daily digest.
#   docker build -t arxiv-digest .
#   docker run -p 8000:8000 -v "$PWD/config.json:/app/config.json:ro" -v digest-data:/app/var arxiv-digest
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    ARXIV_DIGEST_CONFIG=/app/config.json

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install '.[postgres]' && rm -rf src \
    && useradd --system --create-home --home-dir /home/digest --uid 10001 digest \
    && mkdir -p /app/var && chown digest /app/var

# Outputs and the SQLite store live in /app/var (mount a volume there); point the config's
# "output" and "store" at it, e.g. "store": {"url": "sqlite:////app/var/arxiv-digest.sqlite"}.
USER digest
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"
CMD ["arxiv-digest", "serve", "--host", "0.0.0.0", "--port", "8000", "--schedule"]
