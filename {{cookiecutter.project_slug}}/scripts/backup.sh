#!/usr/bin/env bash
# Backups of the database, while the app runs (make backup, make restore):
#
#   scripts/backup.sh                  write one to backups/, named by the UTC time
#   scripts/backup.sh --restore FILE   check FILE, then put it in place of the database
#
# A file that is not a whole backup of this app's database, at a migration
# this release has, is refused with one line; the database is left as it was.
# Keep copies of backups/ off this host: a backup on the disk it protects
# goes with that disk.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
    echo "backup.sh: $*" >&2
    exit 1
}

{% include "backup/" ~ cookiecutter.database ~ ".sh" ignore missing %}

backup() {
    # Readable by this user only: it holds every row. A failed backup leaves
    # no file behind, and none replaces another (one a second at most).
    local file
    until file=backups/$(date -u +%Y-%m-%dT%H%M%SZ).$extension && [ ! -e "$file" ]; do
        sleep 1
    done
    umask 077
    mkdir -p backups
    if ! dump >"$file.partial"; then
        rm -f "$file.partial"
        die "no backup made (see above)"
    fi
    mv "$file.partial" "$file"
    echo "$file"
}

case "${1:-}" in
    "") backup ;;
    --restore)
        [ -f "${2:-}" ] || die "--restore needs a backup file (FILE=backups/...): '${2:-}' is not one"
        load "$2"
        ;;
    *) sed -n '3,5s/^# \{0,3\}//p' "$0" >&2 && exit 2 ;;
esac
