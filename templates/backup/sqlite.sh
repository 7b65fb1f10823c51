{% include "backup/sqlite-" ~ cookiecutter.deployment ~ ".sh" %}

dump() {
    in_app python3 -m app.backup
}

# app/backup.py checks the file, says in one line why it refuses one, and
# brings an older backup's schema up to this release's.
# shellcheck disable=SC2094 # the file's name is only printed
load() {
    in_app python3 -m app.backup --restore "$1" <"$1"
}
