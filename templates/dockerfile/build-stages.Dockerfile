# Install the Python dependencies into a virtualenv with uv. uv stays in this
# stage; the final image only copies the virtualenv.
FROM --platform=$BUILDPLATFORM ${BUILD_BASE_IMAGE} AS builder
ARG BUILDARCH
ARG TARGETARCH
# Where the base has no Python of its own, apt brings it and its venv module
# (the python image has both). Package lists and downloads live in cache
# mounts, one per architecture (stages of two platforms never wait for each
# other's): later builds skip most of the download, and the image keeps neither.
RUN --mount=type=cache,id=apt-cache-$BUILDARCH,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=apt-lists-$BUILDARCH,target=/var/lib/apt/lists,sharing=locked \
    if ! command -v python3 >/dev/null; then \
        rm -f /etc/apt/apt.conf.d/docker-clean \
        && apt-get update \
        && apt-get install -y --no-install-recommends python3-venv; \
    fi
# uv, the version docker/uv-requirements.txt pins, checked against its hashes.
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=bind,source=docker/uv-requirements.txt,target=/tmp/uv-requirements.txt \
    python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --require-hashes -r /tmp/uv-requirements.txt
# Only what requirements.txt pins (make lock), each file checked against its
# hashes, in a virtualenv of the base's Python, byte-code compiled; the wheels
# are the target platform's, whichever machine builds (glibc 2.28 or later:
# pyuwsgi's manylinux_2_28, which every base since Debian 12 has).
# docker/sync-venv.sh says how. The virtualenv is kept in a cache mount, one
# per base and CPU, so a changed lock installs only what changed; so is uv's
# cache (wheels are the same on every base: one for all). The image keeps
# neither: the final stage copies /opt/image-venv.
ARG BUILD_BASE_IMAGE
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=cache,id=venv-$TARGETARCH-$BUILD_BASE_IMAGE,target=/opt/venv,sharing=locked \
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    --mount=type=bind,source=docker/sync-venv.sh,target=/tmp/sync-venv.sh \
    PATH=/opt/uv/bin:$PATH sh /tmp/sync-venv.sh /tmp/requirements.txt /opt/image-venv

# The static files nginx serves, each text file gzip-compressed beside itself
# once here (nginx's gzip_static sends the .gz to clients that accept it), and
# readable by nginx's user whatever the modes in the checkout.
FROM --platform=$BUILDPLATFORM ${BUILD_BASE_IMAGE} AS assets
COPY app/static/ /static/
RUN find /static -type f \( -name '*.css' -o -name '*.js' -o -name '*.mjs' -o -name '*.json' \
        -o -name '*.svg' -o -name '*.html' -o -name '*.txt' -o -name '*.xml' \) \
        -exec gzip --keep --force --best --no-name {} + \
    && chmod -R a+rX /static

