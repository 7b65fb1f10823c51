#!/bin/sh
# Usage (the Dockerfile's builder stage runs it; it is not in the image):
#   sync-venv.sh LOCK OUT
# Makes the virtualenv /opt/venv hold exactly what LOCK (requirements.txt)
# pins, as wheels for TARGETARCH's CPU, then copies it to OUT, which the final
# stage copies to /opt/venv.
#
# /opt/venv is a cache mount: it stays from one build to the next (one per
# base image and CPU), so a changed lock installs only what changed, and the
# byte-code of what did not change is kept. It cannot drift from the lock:
# - uv pip sync removes what the lock no longer pins and installs what it adds,
#   each file checked against the lock's hashes (--require-hashes; --no-build
#   fails where a package has no wheel: nothing is compiled, uWSGI comes as
#   pyuwsgi's wheel).
# - A pin whose line changed in any way (its version, markers or hashes) is
#   installed again, so that every package in the virtualenv was checked
#   against the hashes the lock names now, not those of an earlier lock.
# - The virtualenv starts afresh when the Python or the CPU differs from the
#   one that made it, and after a build that stopped half-way: what it was
#   made from is written down only once a sync succeeded.
# `docker build --no-cache` starts from an empty one.
set -eu

lock=$1 out=$2
venv=/opt/venv
case "${TARGETARCH:?}" in
    amd64) platform=x86_64-manylinux_2_28 ;;
    arm64) platform=aarch64-manylinux_2_28 ;;
    *) echo "TARGETARCH=$TARGETARCH: pyuwsgi has wheels for amd64 and arm64 only" >&2 && exit 1 ;;
esac

# Each pin on one line (a lock continues its lines with "\"), comments left out.
pins() {
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$1" | grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' | sort
}

made_for="$platform $(python3 -c 'import sys; print(sys.executable, sys.version)')"
if [ "$(cat "$venv/.made-for" 2>/dev/null)" != "$made_for" ]; then
    find "$venv" -mindepth 1 -delete
    uv venv --quiet --python python3 --no-python-downloads "$venv"
    : > "$venv/.lock"
fi
rm -f "$venv/.made-for"

pins "$venv/.lock" > /tmp/installed
set --
for name in $(pins "$lock" | grep -v -x -F -f /tmp/installed | sed 's/[][ =;<>!~].*//'); do
    set -- "$@" --reinstall-package "$name"
done
uv pip sync --python "$venv/bin/python" --require-hashes --no-build \
    --python-platform "$platform" --compile-bytecode --link-mode copy "$@" "$lock"

cp "$lock" "$venv/.lock"
echo "$made_for" > "$venv/.made-for"
cp -a "$venv" "$out"
rm "$out/.lock" "$out/.made-for"
