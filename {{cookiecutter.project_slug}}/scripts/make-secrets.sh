#!/bin/sh
{% set postgres = cookiecutter.database == "postgres" %}
# Make the secrets this project needs, once, as 64 random hex digits each:
#   {{ cookiecutter._secret_key_path }}     the app's secret key
{% if postgres %}
#   {{ cookiecutter._db_password_path }}    the database's password (compose's db service)
{% endif %}
# Git and Docker's build ignore secrets/, readable only by you on this
# machine. A secret already there is kept ({% if postgres %}a new key signs every user out,
# the database keeps its first password{% else %}a new key signs every user out{% endif %}); only its permissions are
# set again. Swarm and Kubernetes, whose replicas span hosts, need these
# (deploy/); {{ "compose makes its own in volumes" if cookiecutter.deployment == "split" else "install.sh mounts the key when it is here" }}, else the app makes one in its data volume.
set -eu
cd "$(dirname "$0")/.."

make_secret() {
    [ -s "$1" ] && return 0
    mkdir -p "$(dirname "$1")"
    chmod 700 "$(dirname "$1")"
    (
        umask 077
        od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' >"$1"
    )
    echo "Made $1: keep it, and back it up with the data." >&2
}

make_secret {{ cookiecutter._secret_key_path }}
# The app reads its key as uid {{ cookiecutter._uid }} in the container. As root, share it with
# that group only; otherwise the file itself must be readable by all.
if [ "$(id -u)" = 0 ]; then
    chgrp {{ cookiecutter._uid }} {{ cookiecutter._secret_key_path }} && chmod 640 {{ cookiecutter._secret_key_path }}
else
    chmod 644 {{ cookiecutter._secret_key_path }}
fi
{% if postgres %}
# Read by the app (uid {{ cookiecutter._uid }}) and by PostgreSQL (uid 999) in their containers.
make_secret {{ cookiecutter._db_password_path }}
chmod 644 {{ cookiecutter._db_password_path }}
{% endif %}
