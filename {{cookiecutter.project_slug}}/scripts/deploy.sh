#!/usr/bin/env bash
{% set database = cookiecutter.database != "none" %}
# Build and start the containers, or update running ones without an outage
# (make up runs this). Plain Compose has no rolling update, so:
#   1. build the images{{ " and run the migrations (one that fails stops here)" if database }}
#   2. start new app replicas beside the running ones, and wait until they are healthy
#   3. wait {{ cookiecutter._resolver_valid }} s, until nginx has looked the app's addresses up again
#   4. stop the old replicas (each finishes its requests in flight) and remove them
#   5. docker compose up: the proxy is replaced only if its image or settings changed
#      (static files, nginx.conf.template), which takes it away for about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

{% if cookiecutter.https == "self-signed" %}
scripts/self-signed-cert.sh
{% endif %}
scripts/make-secrets.sh
docker compose build
{% if database %}
docker compose run --rm migrate
{% endif %}
old=$(docker compose ps --quiet app)
if [ -n "$old" ]; then
    count=$(wc -l <<<"$old")
    docker compose up --detach --wait --no-deps --no-recreate --scale "app=$((count * 2))" app
    sleep {{ cookiecutter._resolver_valid }}
    # shellcheck disable=SC2086 # one container id per word
    docker stop $old >/dev/null && docker rm $old >/dev/null
fi
docker compose up --detach --wait
