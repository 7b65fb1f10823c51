#!/usr/bin/env bash
# Make debian:SUITE-slim locally when the engine lacks it and no registry can
# be reached: debootstrap a minimal Debian from the packages the official image
# is made from, slim it the way the official -slim images are (no docs, man
# pages or translations; no apt lists or caches; the same apt settings), cache
# the root filesystem as a tarball and `docker import` it.
#
# With ARCH (arm64), the image of that architecture, named as Docker Hub names
# the official image's per-architecture repository (arm64v8/debian:SUITE-slim);
# debootstrap runs its second stage under QEMU (registered by ensure-qemu.sh).
#
# An image that is already there is never replaced, unless it is a stand-in
# made by an older version of this script (its label says so).
#
# Where the host trusts an extra CA bundle (a TLS-inspecting proxy), it is put
# into the stand-in and named in PIP_CERT and SSL_CERT_FILE so that pip and uv
# inside builds reach PyPI. This lives only in the locally made base image,
# never in a baked project.
set -euo pipefail

usage="usage: make-debian-base-image.sh SUITE [ARCH]   (e.g. trixie; arm64)"
suite=${1:?$usage}
arch=${2:-$(dpkg --print-architecture)}
case "$arch" in
    "$(dpkg --print-architecture)") image="debian:${suite}-slim" platform="" ;;
    arm64) image="arm64v8/debian:${suite}-slim" platform=linux/arm64 ;;
    *) echo "make-debian-base-image.sh: ARCH '$arch': this host's or arm64" >&2 && exit 2 ;;
esac
# Bump when the stand-in changes, so that older stand-ins are made anew.
version=4
# Bump when the root filesystem changes (4 changed only the image's ENV).
rootfs_version=3
cache=${FLASK_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flask-docker}
tarball="$cache/debian-${suite}-slim-${arch}-v${rootfs_version}.tar"
host_ca=/etc/ssl/certs/ca-certificates.crt
image_ca=/usr/local/share/host-ca/ca-certificates.crt

# shellcheck source=tests/infra/stand-in.sh
. "$(dirname "$0")/stand-in.sh"
needs_making "$image" "$version" "$platform" || exit 0

slim() {
    # The official images' dpkg excludes (debuerreotype's slimify), so that
    # packages installed later stay slim too; then the same files removed now.
    local rootfs=$1
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
CFG
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$rootfs"/usr/share/{groff,info,linda,lintian,man}/*
    find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
}

rootfs="" context=""
cleanup() {
    if [ -n "$rootfs" ]; then rm -rf "$rootfs" "$rootfs.log"; fi
    if [ -n "$context" ]; then rm -rf "$context"; fi
}
trap cleanup EXIT

apt_settings() {
    # The official images' /etc/apt/apt.conf.d/docker-* (debuerreotype's
    # minimizing-config): no .deb or package cache kept, compressed lists,
    # no translations, and suggested packages may be autoremoved.
    local conf=$1/etc/apt/apt.conf.d
    local clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"'
    cat >"$conf/docker-clean" <<CONF
DPkg::Post-Invoke { $clean; };
APT::Update::Post-Invoke { $clean; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
    echo 'Acquire::GzipIndexes "true";' >"$conf/docker-gzip-indexes"
    echo 'Acquire::Languages "none";' >"$conf/docker-no-languages"
    echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$conf/docker-autoremove-suggests"
}

if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || {
        # A fresh machine may have no package lists yet; one apt-get at a
        # time with scripts/ensure-docker.sh and ensure-qemu.sh.
        flock 9
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    } 9>>/tmp/flask-docker-apt.lock
    if [ -n "$platform" ]; then "$(dirname "$0")/ensure-qemu.sh"; fi
    rootfs=$(mktemp -d)
    echo "debootstrap $suite $arch (about 30 s natively, a few minutes under QEMU) ..." >&2
    debootstrap --variant=minbase --arch "$arch" "$suite" "$rootfs" >"$rootfs.log" 2>&1 || {
        tail -n 20 "$rootfs.log" >&2
        exit 1
    }
    slim "$rootfs"
    apt_settings "$rootfs"
    if [ -s "$host_ca" ]; then
        install -D -m 0644 "$host_ca" "$rootfs$image_ca"
    fi
    mkdir -p "$cache"
    tar -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
fi

changes=(--change 'CMD ["bash"]'
         --change "LABEL $label=$version"
         --change "LABEL org.opencontainers.image.description=\"local debootstrap stand-in for $image\"")
if tar -tf "$tarball" "./${image_ca#/}" >/dev/null 2>&1; then
    changes+=(--change "ENV PIP_CERT=$image_ca" --change "ENV SSL_CERT_FILE=$image_ca")
fi
if [ -z "$platform" ]; then
    docker import "${changes[@]}" "$tarball" "$image" >/dev/null
else
    # docker import records the engine's own architecture whatever its
    # --platform says (seen on engine 20.10); an image built FROM scratch
    # records the platform it is built for. The same changes, as instructions.
    context=$(mktemp -d)
    cp "$tarball" "$context/rootfs.tar"
    {
        echo "FROM scratch"
        echo "ADD rootfs.tar /"
        for change in "${changes[@]}"; do
            [ "$change" = --change ] || echo "$change"
        done
    } >"$context/Dockerfile"
    docker buildx build --quiet --platform "$platform" --load --tag "$image" "$context" >/dev/null
fi
echo "made $image from $tarball" >&2
