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

make_on_debian "$image" "$version" "$suite" redis-stand-in redis-server REDIS_MAJOR="$major"
