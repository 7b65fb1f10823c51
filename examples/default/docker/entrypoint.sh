#!/bin/sh
# Every image's entrypoint: run the start-up scripts in /docker-entrypoint.d
# in order, then the command. Each script does one job; one that fails stops
# the start, so a container never serves half set up.
set -eu

for script in /docker-entrypoint.d/*.sh; do
    [ -e "$script" ] || continue
    "$script"
done
exec "$@"
