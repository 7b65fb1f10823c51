#!/usr/bin/env bash
# Make python:X.Y-slim locally when the engine lacks it and no registry can be
# reached: CPython built from source on the debian:trixie-slim stand-in the way
# docker-library/python's slim-trixie Dockerfile builds it (python-stand-in/,
# where what differs is listed). Test infrastructure only: no baked project
# uses it.
#
# The source is upstream's release tarball, which Debian's source package
# carries unchanged as its .orig.tar.xz (3.13.5's sha256 is python.org's): 3.13
# from trixie, 3.14 from sid, since Debian's archive is reachable where
# python.org is not. It is fetched in a throwaway container and cached, as is
# the finished image (docker save), so that making it again takes seconds.
# To take a newer release, delete both from the cache (Python-X.Y.*.tar.xz,
# python-X.Y-slim-v*.tar). A mirror whose sid index names files it does not
# hold fails the fetch, which says so. Needs python3 on the host (see below).
#
# An image that is already there is never replaced, unless it is a stand-in
# made by an older version of this script (its label says so).
#
# The build takes about 6.5 minutes on one CPU, about 4 on two: it runs before
# the tests of the python:* variants, never beside one.
set -euo pipefail
here=$(dirname "$0")

minor=${1:?usage: make-python-image.sh VERSION   (e.g. 3.13, 3.14)}
image="python:${minor}-slim"
# The Debian suite whose source package carries that release, and the build
# dependencies upstream's Dockerfile adds for it.
case "$minor" in
    3.13) source_suite=trixie extra_build_deps="" ;;
    3.14) source_suite=sid extra_build_deps="libzstd-dev" ;;
    *) echo "make-python-image.sh: no Debian source package for Python $minor known" >&2 && exit 1 ;;
esac
base=debian:trixie-slim
# Bump when the stand-in changes, so that older stand-ins are made anew.
version=3
# What the build leaves out of upstream's configure (see python-stand-in/).
build=no-pgo-no-lto
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

"$here/make-debian-base-image.sh" trixie

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

log="$cache/python-${minor}-slim-build.log"
echo "building $image (CPython $python_version, $(nproc) CPUs, a few minutes; log: $log) ..." >&2
start=$SECONDS
# The legacy builder: it reaches the loopback server with --network host and
# needs no BuildKit entitlement for it.
if ! DOCKER_BUILDKIT=0 docker build --network host --force-rm --tag "$image" \
    --build-arg BASE_IMAGE="$base" \
    --build-arg PYTHON_VERSION="$python_version" --build-arg PYTHON_SHA256="$sha256" \
    --build-arg PYTHON_SOURCE="http://127.0.0.1:$port" \
    --build-arg EXTRA_BUILD_DEPS="$extra_build_deps" \
    --label "$label=$version" \
    --label "$label.build=$build" \
    --label "org.opencontainers.image.version=$python_version" \
    --label "org.opencontainers.image.description=local stand-in for $image: CPython $python_version built from Debian $source_suite's python$minor source package, without PGO and LTO" \
    "$here/python-stand-in" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    exit 1
fi
docker save -o "$saved.tmp" "$image"
chmod 0644 "$saved.tmp"
mv "$saved.tmp" "$saved"
echo "made $image (CPython $python_version) in $((SECONDS - start)) s; saved to $saved" >&2
