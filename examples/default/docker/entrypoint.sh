#!/bin/sh
# Every image's entrypoint: run the start-up scripts in /docker-entrypoint.d
# in the order of their names, then the command. A *.sh script is run, a
# *.envsh script is sourced (it sets variables for the command). One that
# fails stops the start: a container never serves half set up.
set -eu

for script in /docker-entrypoint.d/*; do
    # shellcheck source=/dev/null # which scripts: each image's own
    case "$script" in
        *.envsh) . "$script" ;;
        *.sh) "$script" ;;
    esac
done
exec "$@"
