#!/usr/bin/env bash
# Make debian:SUITE-slim locally when the engine lacks it and no registry can
# be reached: debootstrap a minimal Debian (the packages the official image is
# made from), cache the root filesystem as a tarball, and `docker import` it.
# An image that is already there is never replaced.
#
# Where the host trusts an extra CA bundle (a TLS-inspecting proxy), it is put
# into the stand-in and named in PIP_CERT so that pip inside builds reaches
# PyPI. This lives only in the locally made base image, never in a baked
# project.
set -euo pipefail

suite=${1:?usage: base-image.sh SUITE   (e.g. bookworm, trixie)}
image="debian:${suite}-slim"
cache=${FLASK_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flask-docker}
tarball="$cache/debian-${suite}-rootfs.tar"
host_ca=/etc/ssl/certs/ca-certificates.crt
image_ca=/usr/local/share/host-ca/ca-certificates.crt

if docker image inspect "$image" >/dev/null 2>&1; then
    exit 0
fi
if timeout 60 docker pull -q "$image" >/dev/null 2>&1; then
    exit 0
fi
if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    }
    rootfs=$(mktemp -d)
    trap 'rm -rf "$rootfs"' EXIT
    echo "debootstrap $suite (about 30 s) ..." >&2
    debootstrap --variant=minbase "$suite" "$rootfs" >"$rootfs.log" 2>&1 || {
        tail -n 20 "$rootfs.log" >&2
        exit 1
    }
    rm -f "$rootfs.log"
    if [ -s "$host_ca" ]; then
        install -D -m 0644 "$host_ca" "$rootfs$image_ca"
    fi
    mkdir -p "$cache"
    tar -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
fi

changes=(--change 'CMD ["bash"]'
         --change "LABEL org.opencontainers.image.description=\"local debootstrap stand-in for $image\"")
if tar -tf "$tarball" "./${image_ca#/}" >/dev/null 2>&1; then
    changes+=(--change "ENV PIP_CERT=$image_ca")
fi
docker import "${changes[@]}" "$tarball" "$image" >/dev/null
echo "made $image from $tarball" >&2
