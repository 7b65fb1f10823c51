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

# PostgreSQL: pg_dump's custom format, made by the db service (the server's
# own pg_dump, of its version). With your own database (DATABASE_URL), use
# your provider's backups, or run these with its address.
extension=dump

in_db() {
    docker compose exec -T db "$@"
}

dump() {
    in_db pg_dump --format=custom --username=app app
}

# The migration a backup on stdin is at (its alembic_version row), or nothing.
revision() {
    in_db pg_restore --data-only --table=alembic_version --file=- 2>/dev/null |
        awk '/^COPY / { getline; print; exit }'
}

# All or nothing: in one transaction, which a damaged file rolls back. The
# schema is then brought up to this release's (the migrate service).
load() {
    local file=$1 revision
    in_db pg_restore --list <"$file" >/dev/null 2>&1 ||
        die "not restored: $file: it is not a whole backup made by pg_dump --format=custom; the database is left as it was"
    revision=$(revision <"$file")
    [ -n "$revision" ] ||
        die "not restored: $file: it is not a database of this app (it has no alembic_version table); the database is left as it was"
    docker compose exec -T app flask db show "$revision" >/dev/null 2>&1 ||
        die "not restored: $file: it is at migration $revision, which this release does not have; the database is left as it was"
    in_db pg_restore --clean --if-exists --single-transaction --exit-on-error \
        --no-owner --username=app --dbname=app <"$file" 2>/dev/null ||
        die "not restored: $file: it is damaged; the database is left as it was"
    docker compose run --rm migrate >/dev/null 2>&1 ||
        die "restored, but its migrations failed: see docker compose run --rm migrate"
    echo "restored $file (a backup at migration $revision)" >&2
}

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
