# appconnect connector server. Written without a Docker engine at hand: build it once before
# relying on it (see docs/deployment.md#docker).
#
#   docker build -t appconnect .
#   docker run -p 6066:6066 -e IS_PROD=true -e APP_SERVER_SECRET_KEY=... -e HASH_KEY=... appconnect
#
# It serves the built-in demo connector. For your connector, copy your project in as well,
# `pip install` it, and change CMD's target (e.g. myconnector.server:app).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 appconnect && mkdir /data && chown appconnect /data
COPY --from=build /install /usr/local
USER appconnect
WORKDIR /data
ENV DATABASE_URL=sqlite:////data/appconnect.db \
    APPCONNECT_SECRET_FILE=/data/.appconnect-secret \
    APPCONNECT_LOG_FORMAT=json \
    APPCONNECT_ACCESS_LOG=true \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 6066
HEALTHCHECK --interval=30s --timeout=6s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:6066/readyz', timeout=5).status != 200)"
CMD ["appconnect", "serve", "--host", "0.0.0.0", "--port", "6066"]
