#!/usr/bin/env bash
# Make flask-docker-test/pebble:VERSION: Debian's `pebble` package (Let's
# Encrypt's test CA), for the ACME tests (tests/acme.py). Test infrastructure
# only: no baked project uses it. It ships no certificates and no
# configuration: the tests write both and mount them (tests/acme.py).
# Like the stand-ins, it carries this script's version as a label; an image
# made by an older version is made anew.
set -euo pipefail
cd "$(dirname "$0")"

version=${1:?usage: make-pebble-image.sh VERSION   (2.6.0 or 2.4.0)}
# Debian's suite that ships pebble $version.
case "$version" in
    2.6.0) suite=trixie ;;
    2.4.0) suite=bookworm ;;
    *) echo "make-pebble-image.sh: no Debian suite ships pebble $version" >&2 && exit 1 ;;
esac
image="flask-docker-test/pebble:$version"
script_version=1
# shellcheck source=tests/infra/stand-in.sh
. ./stand-in.sh
take_lock "$image"
if docker image inspect "$image" >/dev/null 2>&1; then
    made_by=$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$image")
    [ "$made_by" = "$script_version" ] && exit 0
    echo "replacing $image, made by version ${made_by:-none} of this script" >&2
fi

./make-debian-base-image.sh "$suite"
DOCKER_BUILDKIT=1 docker build --quiet --tag "$image" \
    --build-arg BASE_IMAGE="debian:$suite-slim" --build-arg PEBBLE_VERSION="$version" \
    --label "$label=$script_version" \
    --label "org.opencontainers.image.description=test infrastructure: Debian $suite's pebble $version" \
    pebble >/dev/null
echo "made $image from Debian $suite's pebble" >&2
