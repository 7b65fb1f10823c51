# uWSGI (target app) and nginx (target proxy) images.
# Built with BuildKit (docker build, docker compose build). Another base, or
# another uid for the image's user (its gid follows):
#   docker build --build-arg BASE_IMAGE=debian:bookworm-slim .
#   docker build --build-arg APP_UID=1000 .
ARG BASE_IMAGE={{ cookiecutter.base_image }}
# The builder and assets stages run on the build machine's platform, also when
# the image is for another (docker buildx build --platform linux/arm64): no
# step of theirs runs emulated. Their base is BASE_IMAGE for that platform,
# which a multi-platform tag is; where BASE_IMAGE names one platform's
# repository, name the build platform's image of the same release here (the
# same Python at the same path):
#   --build-arg BASE_IMAGE=arm64v8/debian:trixie-slim --build-arg BUILD_BASE_IMAGE=debian:trixie-slim
ARG BUILD_BASE_IMAGE=${BASE_IMAGE}
ARG APP_UID=10001
ARG APP_GID=${APP_UID}
# The port the app container's uWSGI takes uwsgi-protocol requests on.
ARG APP_PORT=3031

{% include "dockerfile/build-stages.Dockerfile" %}
# The reverse proxy: nginx alone, publishing the site.
FROM ${BASE_IMAGE} AS proxy
ARG TARGETARCH
# Where things are in this image. nginx listens on NGINX_PORT;
# its entrypoint script renders NGINX_TEMPLATE into NGINX_RUN_DIR (/tmp: the
# root filesystem is read-only), and the server block includes the snippets in
# NGINX_SNIPPETS.
ENV NGINX_PORT=8080 \
    NGINX_TEMPLATE=/etc/nginx/templates/nginx.conf.template \
    NGINX_RUN_DIR=/tmp/nginx \
    NGINX_SNIPPETS=/etc/nginx/server.d \
    NGINX_STATIC_ROOT=/var/www/static
# nginx's conventional paths lead to what runs: `nginx -t` and `nginx -s
# reload` need no -c, and the error log Debian's nginx opens before reading its
# configuration is stderr. No setuid or setgid program is left (su, passwd,
# mount, ...): nothing in a container can gain privileges through one, also
# where no-new-privileges cannot be set (swarm).
RUN --mount=type=cache,id=apt-cache-$TARGETARCH,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=apt-lists-$TARGETARCH,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
    && apt-get update \
    && apt-get install -y --no-install-recommends nginx gettext-base tini \
    && ln -sf "$NGINX_RUN_DIR/nginx.conf" /etc/nginx/nginx.conf \
    && ln -sf /dev/stderr /var/log/nginx/error.log \
    && find / -xdev -perm /6000 -type f -exec chmod a-s {} +
# The image's user: another APP_UID (docker build --build-arg APP_UID=1000 .)
# re-runs the steps from here on, not the installation of packages above.
ARG APP_UID
ARG APP_GID
RUN groupadd --gid "$APP_GID" app \
    && useradd --uid "$APP_UID" --gid app --no-create-home --shell /usr/sbin/nologin app
# Settings, read by the entrypoint when the container starts (docs/settings.md).
ENV REQUEST_TIMEOUT=30 \
    LOG_FORMAT=text \
    NGINX_WORKER_PROCESSES=1 \
    NGINX_WORKER_CONNECTIONS=16384 \
    NGINX_KEEPALIVE_TIMEOUT=15s \
    NGINX_LIMIT_CONN="" \
    NGINX_LIMIT_REQ="" \
    NGINX_MAX_BODY_SIZE=10m \
    NGINX_STATIC_MAX_AGE=1h \
    NGINX_CSP="default-src 'self'; frame-ancestors 'none'" \
    NGINX_REAL_IP_FROM="" \
    NGINX_METRICS_FROM="" \
    NGINX_RESOLVER=127.0.0.11 \
    NGINX_APP_UPSTREAM=app:3031
{% if cookiecutter.https != "none" %}{% include "dockerfile/tls.Dockerfile" %}{% endif %}
COPY docker/nginx/nginx.conf.template ${NGINX_TEMPLATE}
COPY docker/nginx/server.d/ ${NGINX_SNIPPETS}/
COPY docker/nginx/entrypoint.d/ /docker-entrypoint.d/
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# The site's static files: this image serves them, nothing is mounted.
COPY --from=assets /static/ ${NGINX_STATIC_ROOT}/
USER ${APP_UID}:${APP_GID}
EXPOSE ${NGINX_PORT}
# SIGQUIT is nginx's graceful shutdown: requests in flight are finished.
STOPSIGNAL SIGQUIT
# No Python or curl here: bash's /dev/tcp asks nginx for the app's health route.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/$NGINX_PORT && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && read -r _ code _ <&3 && [ \"$code\" = 200 ]"]
ENTRYPOINT ["tini", "--", "docker-entrypoint.sh"]
CMD ["nginx"]

# The application server: uWSGI speaking the uwsgi protocol to the proxy.
FROM ${BASE_IMAGE} AS app
LABEL maintainer="{{ cookiecutter.author_name }} <{{ cookiecutter.author_email }}>" \
      org.opencontainers.image.title="{{ cookiecutter.project_slug }}" \
      org.opencontainers.image.description="{{ cookiecutter.description }}" \
      org.opencontainers.image.licenses="{{ cookiecutter.license if cookiecutter.license != "proprietary" else "LicenseRef-Proprietary" }}"
ARG APP_PORT
ARG TARGETARCH
# uWSGI reads UWSGI_* variables as options: the proxy reaches it on the
# socket UWSGI_SOCKET, on every address of the container's network (never
# publish this port). The app keeps its files in FLASK_DATA_DIR, its
# workers their numbers for /metrics in PROMETHEUS_MULTIPROC_DIR.
ENV UWSGI_SOCKET=0.0.0.0:${APP_PORT} \
    FLASK_DATA_DIR=/srv/data \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics
# uWSGI is pyuwsgi, a Python extension in the venv: the base's python3 (from
# apt where the base has none) and libexpat, which it links and the python
# image does not carry, are all it needs: no libpython. No setuid or
# setgid program is left.
RUN --mount=type=cache,id=apt-cache-$TARGETARCH,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=apt-lists-$TARGETARCH,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
    && apt-get update \
    && if ! command -v python3 >/dev/null; then \
        apt-get install -y --no-install-recommends python3; \
    fi \
    && apt-get install -y --no-install-recommends tini libexpat1 \
    && find / -xdev -perm /6000 -type f -exec chmod a-s {} +
# The image's user: another APP_UID (docker build --build-arg APP_UID=1000 .)
# re-runs the steps from here on, not the installation of packages above.
ARG APP_UID
ARG APP_GID
RUN groupadd --gid "$APP_GID" app \
    && useradd --uid "$APP_UID" --gid app --no-create-home --shell /usr/sbin/nologin app \
    && install -d -o app -g app "$FLASK_DATA_DIR"
# FLASK_* variables become app.config entries: the app keeps its files in
# FLASK_DATA_DIR, where every deployment mounts a volume. Every deployment
# mounts the secret key at SECRET_KEY_FILE (app/secret_key.py):
# a path, not a secret.
# hadolint ignore=DL3064
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SECRET_KEY_FILE=/run/secrets/secret_key
# Settings, all overridable with docker run -e (docs/settings.md).
ENV REQUEST_TIMEOUT=30 \
    LOG_FORMAT=text \
    UWSGI_PROCESSES=auto \
    UWSGI_LISTEN=1024 \
    SENTRY_DSN=""
{% include "dockerfile/worker/" ~ cookiecutter.worker ~ ".Dockerfile" %}
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY docker/app/entrypoint.d/ /docker-entrypoint.d/
WORKDIR /srv
COPY docker/app/uwsgi.ini docker/app/healthcheck.py ./
# The application code: an edit rebuilds only the layers from here.
COPY wsgi.py ./
COPY app/ app/
{% include "dockerfile/database/" ~ cookiecutter.database ~ ".Dockerfile" %}
# The dependencies last: a changed requirements.txt rebuilds only this layer
# after the builder's. (The code above was compiled by the base's python3,
# the venv's Python.)
COPY --from=builder /opt/image-venv /opt/venv
USER ${APP_UID}:${APP_GID}
EXPOSE ${APP_PORT}
# Docker checks first one interval after the start: a new container counts as
# healthy within 5 s, which each start, update and rollback waits for.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s CMD ["python3", "healthcheck.py"]
ENTRYPOINT ["tini", "--", "docker-entrypoint.sh"]
CMD ["uwsgi", "--ini", "uwsgi.ini"]
