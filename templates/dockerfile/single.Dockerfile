# nginx in front of uWSGI in front of Flask, in one image.
# Built with BuildKit (docker build). Another base, or another uid for the
# image's user (its gid follows):
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

{% include "dockerfile/build-stages.Dockerfile" %}
# The runtime image: nginx and uWSGI, run side by side by supervise.sh.
FROM ${BASE_IMAGE}
LABEL maintainer="{{ cookiecutter.author_name }} <{{ cookiecutter.author_email }}>" \
      org.opencontainers.image.title="{{ cookiecutter.project_slug }}" \
      org.opencontainers.image.description="{{ cookiecutter.description }}" \
      org.opencontainers.image.licenses="{{ cookiecutter.license if cookiecutter.license != "proprietary" else "LicenseRef-Proprietary" }}"
ARG TARGETARCH
# Where things are in this image. nginx listens on NGINX_PORT;
# its entrypoint script renders NGINX_TEMPLATE into NGINX_RUN_DIR (/tmp: the
# root filesystem is read-only), and the server block includes the snippets in
# NGINX_SNIPPETS. uWSGI reads UWSGI_* variables as options: nginx reaches it
# through the socket file UWSGI_SOCKET, which only the image's user may open.
# uWSGI's workers keep their numbers for /metrics in PROMETHEUS_MULTIPROC_DIR.
ENV NGINX_PORT=8080 \
    NGINX_TEMPLATE=/etc/nginx/templates/nginx.conf.template \
    NGINX_RUN_DIR=/tmp/nginx \
    NGINX_SNIPPETS=/etc/nginx/server.d \
    NGINX_STATIC_ROOT=/var/www/static \
    UWSGI_SOCKET=/tmp/uwsgi.sock \
    UWSGI_CHMOD_SOCKET=600 \
    FLASK_DATA_DIR=/srv/data \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics
# uWSGI is pyuwsgi, a Python extension in the venv: the base's python3 (from
# apt where the base has none) and libexpat, which it links and the python
# image does not carry, are all it needs: no libpython. nginx's
# conventional paths lead to what runs: `nginx -t` and `nginx -s reload` need
# no -c, and the error log Debian's nginx opens before reading its
# configuration is stderr. No setuid or setgid program is left (su, passwd,
# mount, ...): nothing in a container can gain privileges through one, also
# where no-new-privileges cannot be set.
RUN --mount=type=cache,id=apt-cache-$TARGETARCH,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=apt-lists-$TARGETARCH,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
    && apt-get update \
    && if ! command -v python3 >/dev/null; then \
        apt-get install -y --no-install-recommends python3; \
    fi \
    && apt-get install -y --no-install-recommends nginx gettext-base tini libexpat1 \
    && ln -sf "$NGINX_RUN_DIR/nginx.conf" /etc/nginx/nginx.conf \
    && ln -sf /dev/stderr /var/log/nginx/error.log \
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
    SENTRY_DSN="" \
    NGINX_WORKER_PROCESSES=1 \
    NGINX_WORKER_CONNECTIONS=16384 \
    NGINX_KEEPALIVE_TIMEOUT=15s \
    NGINX_LIMIT_CONN="" \
    NGINX_LIMIT_REQ="" \
    NGINX_MAX_BODY_SIZE=10m \
    NGINX_STATIC_MAX_AGE=1h \
    NGINX_CSP="default-src 'self'; frame-ancestors 'none'" \
    NGINX_REAL_IP_FROM="" \
    NGINX_METRICS_FROM=""
{% if cookiecutter.https != "none" %}{% include "dockerfile/tls.Dockerfile" %}{% endif %}
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY docker/app/entrypoint.d/ /docker-entrypoint.d/
COPY docker/nginx/nginx.conf.template ${NGINX_TEMPLATE}
COPY docker/nginx/server.d/ ${NGINX_SNIPPETS}/
COPY docker/nginx/entrypoint.d/ /docker-entrypoint.d/
COPY docker/supervise.sh /usr/local/bin/
# nginx serves the static files from here, uWSGI never sees those requests.
COPY --from=assets /static/ ${NGINX_STATIC_ROOT}/
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
EXPOSE ${NGINX_PORT}
# Docker checks first one interval after the start: a new container counts as
# healthy within 5 s, which each start, update and rollback waits for.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s CMD ["python3", "healthcheck.py"]
ENTRYPOINT ["tini", "--", "docker-entrypoint.sh"]
CMD ["supervise.sh"]
