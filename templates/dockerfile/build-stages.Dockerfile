# Install the Python dependencies into a virtualenv with uv. uv stays in this
# stage; the final image only copies /opt/venv.
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
# hashes, in a virtualenv of the base's Python. --no-build fails where a
# package has no wheel: nothing is compiled, uWSGI comes as pyuwsgi's wheel.
# Modules are compiled to bytecode once here (the same on every CPU). The
# wheels are the target platform's, whichever machine builds: glibc 2.28 or
# later (pyuwsgi's manylinux_2_28; every base since Debian 12 has it), for the
# CPUs pyuwsgi has wheels for. uv's cache is a cache mount: a changed
# requirements.txt downloads only what changed, and the image keeps no cache.
# Wheels are the same on every base, so every base shares it.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    case "$TARGETARCH" in \
        amd64) python_platform=x86_64-manylinux_2_28 ;; \
        arm64) python_platform=aarch64-manylinux_2_28 ;; \
        *) echo "TARGETARCH=$TARGETARCH: pyuwsgi has wheels for amd64 and arm64 only" >&2 && exit 1 ;; \
    esac \
    && /opt/uv/bin/uv venv --python python3 --no-python-downloads /opt/venv \
    && /opt/uv/bin/uv pip sync --python /opt/venv/bin/python --require-hashes --no-build \
        --python-platform "$python_platform" --compile-bytecode --link-mode copy \
        /tmp/requirements.txt

# The static files nginx serves, each text file gzip-compressed beside itself
# once here (nginx's gzip_static sends the .gz to clients that accept it), and
# readable by nginx's user whatever the modes in the checkout.
FROM --platform=$BUILDPLATFORM ${BUILD_BASE_IMAGE} AS assets
COPY app/static/ /static/
RUN find /static -type f \( -name '*.css' -o -name '*.js' -o -name '*.mjs' -o -name '*.json' \
        -o -name '*.svg' -o -name '*.html' -o -name '*.txt' -o -name '*.xml' \) \
        -exec gzip --keep --force --best --no-name {} + \
    && chmod -R a+rX /static

