#!/usr/bin/env bash
# Make python:X.Y-slim locally when the engine lacks it and no registry can be
# reached, laid out as docker-library/python's slim-trixie Dockerfile lays it
# out, on the debian:trixie-slim stand-in. Test infrastructure only: no baked
# project uses it. Two ways, by release (python-stand-in/, where what differs
# from the official image is listed):
#
# - 3.13: CPython built from source. The source is upstream's release tarball,
#   which Debian's source package carries unchanged as its .orig.tar.xz
#   (3.13.5's sha256 is python.org's), since Debian's archive is reachable
#   where python.org is not. It is fetched in a throwaway container and
#   cached. The build takes about 6.5 minutes on one CPU, about 4 on two.
# - 3.14: Debian sid's binary packages of python3.14, installed by apt (sid's
#   source files of python3.14 answer 404, its binaries download). The
#   version is the one sid lists when the image is made; about a minute.
#
# The finished image is cached (docker save), so that making it again takes
# seconds. To take a newer release, delete it from the cache
# (python-X.Y-slim-v*.tar; for 3.13 the tarball Python-X.Y.*.tar.xz too). A
# mirror whose sid index names files it does not hold fails, which says so.
# Needs python3 on the host (see below).
#
# An image that is already there is never replaced, unless it is a stand-in
# made by an older version of this script (its label says so).
# It runs before the tests of the python:* variants, never beside one.
set -euo pipefail
here=$(dirname "$0")

minor=${1:?usage: make-python-image.sh VERSION   (e.g. 3.13, 3.14)}
image="python:${minor}-slim"
# The stand-in's version (bump it when a way changes, so that older stand-ins
# are made anew), and how each release is made (the label org.flask-docker.stand-in.build says it):
# from the source package of a Debian suite, with the build dependencies
# upstream's Dockerfile adds for it and without what the build leaves out of
# upstream's configure; or from a Debian suite's binary packages.
case "$minor" in
    3.13) build=no-pgo-no-lto version=3 source_suite=trixie extra_build_deps="" ;;
    3.14) build=debian-sid-binaries version=4 binary_suite=sid ;;
    *) echo "make-python-image.sh: no way to make Python $minor known (3.13, 3.14)" >&2 && exit 1 ;;
esac
base=debian:trixie-slim
cache=$(realpath -m "${FLASK_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flask-docker}")
saved="$cache/python-${minor}-slim-v${version}.tar"

# shellcheck source=tests/infra/stand-in.sh
. "$here/stand-in.sh"
needs_making "$image" "$version" || exit 0

if [ -s "$saved" ]; then
    docker load -q -i "$saved" >/dev/null
    echo "made $image from $saved" >&2
    exit 0
fi

work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

log="$cache/python-${minor}-slim-build.log"
# docker build of the stand-in (the arguments: the build's own, the context
# last) with the labels every stand-in carries, DESCRIPTION saying how it was
# made; then saved to the cache. A failed build shows the end of its log.
build_and_save() {
    local description=$1
    shift
    start=$SECONDS
    if ! DOCKER_BUILDKIT=0 docker build --force-rm --tag "$image" \
        --label "$label=$version" \
        --label "$label.build=$build" \
        --label "org.opencontainers.image.version=$python_version" \
        --label "org.opencontainers.image.description=local stand-in for $image: $description" \
        "$@" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        exit 1
    fi
    docker save -o "$saved.tmp" "$image"
    chmod 0644 "$saved.tmp"
    mv "$saved.tmp" "$saved"
    echo "made $image (Python $python_version) in $((SECONDS - start)) s; saved to $saved" >&2
}

"$here/make-debian-base-image.sh" trixie

if [ "$build" = debian-sid-binaries ]; then
    # The version sid lists now; every package of the build is pinned to it.
    echo "asking Debian $binary_suite for python$minor's version ..." >&2
    deb_version=$(docker run --rm --env SUITE="$binary_suite" --env PACKAGE="python$minor" "$base" \
        bash -euo pipefail -c '
            echo "deb http://deb.debian.org/debian $SUITE main" >/etc/apt/sources.list.d/suite.list
            apt-get -qq -o Acquire::Check-Valid-Until=false update
            apt-cache show --no-all-versions "$PACKAGE" | awk "/^Version:/ { print \$2 }"
        ') && [ -n "$deb_version" ] || {
        echo "make-python-image.sh: Debian $binary_suite lists no python$minor package" >&2
        exit 1
    }
    # 3.14.10-1 -> 3.14.10 (a release candidate's 3.14.0~rc3-1 -> 3.14.0rc3)
    python_version=${deb_version%-*}
    python_version=${python_version/\~/}
    mkdir -p "$cache"
    echo "building $image (Debian $binary_suite's python$minor $deb_version; log: $log) ..." >&2
    build_and_save "Debian $binary_suite's python$minor $deb_version binary packages, laid out as the official image" \
        --file "$here/python-stand-in/debian-binaries.Dockerfile" \
        --build-arg BASE_IMAGE="$base" \
        --build-arg PYTHON_VERSION="$python_version" \
        --build-arg DEBIAN_SUITE="$binary_suite" --build-arg DEBIAN_VERSION="$deb_version" \
        "$here/python-stand-in"
    exit 0
fi

# Upstream's tarball, Python-X.Y.Z.tar.xz: the newest one cached, else fetched.
tarball=$(find "$cache" -maxdepth 1 -name "Python-${minor}.*.tar.xz" 2>/dev/null | sort -V | tail -n 1)
if [ -z "$tarball" ]; then
    mkdir -p "$cache"
    echo "fetching Debian $source_suite's python$minor source package ..." >&2
    # apt-get source verifies the files against the suite's signed Sources
    # index. sid's Release files are valid for a week only, and a mirror frozen
    # longer serves them past their Valid-Until: not checked there (the
    # signature still is).
    # The .orig.tar.xz is renamed to upstream's name, read from its top
    # directory (Python-3.13.5/, Python-3.14.0rc3/).
    docker run --rm --volume "$cache:/cache" \
        --env SUITE="$source_suite" --env PACKAGE="python$minor" --env OWNER="$(id -u):$(id -g)" \
        --env DEBIAN_FRONTEND=noninteractive \
        "$base" bash -euo pipefail -c '
            echo "deb-src http://deb.debian.org/debian $SUITE main" >/etc/apt/sources.list.d/src.list
            valid_until=true
            [ "$SUITE" != sid ] || valid_until=false
            apt-get -qq -o Acquire::Check-Valid-Until=$valid_until update
            apt-get -qq install --no-install-recommends xz-utils >/dev/null
            mkdir /src && chown _apt /src && cd /src
            apt-get -qq source --download-only "$PACKAGE" >/dev/null
            orig=$(echo "${PACKAGE}"_*.orig.tar.xz)
            top=$(tar -tJf "$orig" | awk -F / "NR == 1 { print \$1 }")
            case "$top" in
                Python-[0-9]*) ;;
                *) echo "$orig does not hold a Python-X.Y.Z directory" >&2 && exit 1 ;;
            esac
            install -m 0644 -o "${OWNER%:*}" -g "${OWNER#*:}" "$orig" "/cache/$top.tar.xz.tmp"
            mv "/cache/$top.tar.xz.tmp" "/cache/$top.tar.xz"
            echo "$orig -> $top.tar.xz" >&2
        ' || {
        echo "make-python-image.sh: could not fetch python$minor's source from Debian $source_suite" >&2
        exit 1
    }
    tarball=$(find "$cache" -maxdepth 1 -name "Python-${minor}.*.tar.xz" | sort -V | tail -n 1)
fi
python_version=$(basename "$tarball" .tar.xz)
python_version=${python_version#Python-}
sha256=$(sha256sum "$tarball" | cut -d ' ' -f 1)

# The build fetches the tarball with wget as upstream's does, from a server on
# the host's loopback (the build shares the host's network): unlike COPY, this
# leaves no layer with the source in the image.
mkdir "$work/serve"
ln -s "$tarball" "$work/serve/"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/serve" "$port" >"$work/http.log" 2>&1 &
server=$!
for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    if ! kill -0 "$server" 2>/dev/null; then cat "$work/http.log" >&2 && exit 1; fi
    sleep 0.1
done

echo "building $image (CPython $python_version, $(nproc) CPUs, a few minutes; log: $log) ..." >&2
# The legacy builder: it reaches the loopback server with --network host and
# needs no BuildKit entitlement for it.
build_and_save "CPython $python_version built from Debian $source_suite's python$minor source package, without PGO and LTO" \
    --network host \
    --build-arg BASE_IMAGE="$base" \
    --build-arg PYTHON_VERSION="$python_version" --build-arg PYTHON_SHA256="$sha256" \
    --build-arg PYTHON_SOURCE="http://127.0.0.1:$port" \
    --build-arg EXTRA_BUILD_DEPS="$extra_build_deps" \
    "$here/python-stand-in"
