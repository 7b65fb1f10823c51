#!/usr/bin/env bash
# Make postgres:MAJOR locally when the engine lacks it and no registry can be
# reached: Debian's PostgreSQL of that major version on the Debian stand-in,
# with an entrypoint that honours the official image's documented interface
# (postgres-stand-in/). Test infrastructure only: no baked project uses it.
# An image that is already there is never replaced, unless it is a stand-in
# made by an older version of this script (its label says so).
set -euo pipefail
cd "$(dirname "$0")"

major=${1:?usage: make-postgres-image.sh MAJOR   (e.g. 17)}
image="postgres:$major"
# Debian's suite that ships PostgreSQL $major.
case "$major" in
    15) suite=bookworm ;;
    17) suite=trixie ;;
    *) echo "make-postgres-image.sh: no Debian suite ships PostgreSQL $major" >&2 && exit 1 ;;
esac
version=2
# shellcheck source=tests/infra/stand-in.sh
. ./stand-in.sh
needs_making "$image" "$version" || exit 0

make_on_debian "$image" "$version" "$suite" postgres-stand-in "postgresql-$major" PG_MAJOR="$major"
