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
