#!/bin/sh
# Make the secrets this project needs, once, as 64 random hex digits each:
#   secrets/secret_key     the app's secret key, and those named below
# Git and Docker's build ignore secrets/, readable only by you on this
# machine. A secret already there is kept (a new key signs every user out);
# only its permissions are set again. Swarm and Kubernetes, whose replicas
# span hosts, need these (deploy/). On one host they are optional: the app
# makes its key in its data volume when none is given.
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

make_secret secrets/secret_key
# The image's uid: the Dockerfile's APP_UID (or $APP_UID, for a build given another).
app_uid=${APP_UID:-$(sed -n 's/^ARG APP_UID=//p' Dockerfile)}
# The app reads its key as that uid in the container. As root, share it with
# that group only; otherwise the file itself must be readable by all.
if [ "$(id -u)" = 0 ]; then
    chgrp "$app_uid" secrets/secret_key && chmod 640 secrets/secret_key
else
    chmod 644 secrets/secret_key
fi
{% if cookiecutter.database == "postgres" %}{% include "make-secrets/db-password.sh" %}{% endif %}
{% include "make-secrets/worker-" ~ cookiecutter.worker ~ ".sh" %}
