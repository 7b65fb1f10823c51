#!/usr/bin/env bash
# Make redis:MAJOR locally when the engine lacks it and no registry can be
# reached: Debian's redis-server of that major version on the Debian stand-in,
# with an entrypoint that honours the official image's documented interface
# (redis-stand-in/). Test infrastructure only: no baked project uses it.
# An image that is already there is never replaced, unless it is a stand-in
# made by an older version of this script (its label says so).
set -euo pipefail
cd "$(dirname "$0")"

major=${1:?usage: make-redis-image.sh MAJOR   (e.g. 8)}
image="redis:$major"
# Debian's suite whose redis-server is Redis $major.
case "$major" in
    7) suite=bookworm ;;
    8) suite=trixie ;;
    *) echo "make-redis-image.sh: no Debian suite ships Redis $major" >&2 && exit 1 ;;
esac
version=1
# shellcheck source=tests/infra/stand-in.sh
. ./stand-in.sh
needs_making "$image" "$version" || exit 0

./make-debian-base-image.sh "$suite"
DOCKER_BUILDKIT=1 docker build --quiet --tag "$image" \
    --build-arg BASE_IMAGE="debian:$suite-slim" --build-arg REDIS_MAJOR="$major" \
    --label "$label=$version" \
    --label "org.opencontainers.image.description=local stand-in for $image (Debian $suite's redis-server)" \
    redis-stand-in >/dev/null
echo "made $image from Debian $suite's redis-server" >&2
