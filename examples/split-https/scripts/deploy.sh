#!/usr/bin/env bash
# Build and start the containers, or update running ones without an outage
# (make up runs this). Plain Compose has no rolling update, so:
#   1. build the images (and run any migrations: one that fails stops here)
#   2. start new app replicas beside the running ones, and wait until they are healthy
#   3. wait 10 s, until nginx has looked the app's addresses up again
#   4. stop the old replicas (each finishes its requests in flight) and remove them
#   5. docker compose up: the proxy is replaced only if its image or settings changed
#      (static files, nginx.conf.template), which takes it away for about a second.
#   6. each image replaced stays as NAME:previous (one, for a rollback); the one
#      that was :previous before is removed, so updates do not fill the disk.
set -euo pipefail
cd "$(dirname "$0")/.."

# The id a name:tag points to, or nothing.
image_id() {
    docker images --quiet --no-trunc "$1"
}

# The images this project builds: the names without a tag (postgres:17 has one).
images=$(docker compose config --images | grep -vE ':[^/]*$' | sort -u)
declare -A replaced
for image in $images; do
    replaced[$image]=$(image_id "$image:latest")
done
docker compose build
docker compose run --rm migrate
old=$(docker compose ps --quiet app)
if [ -n "$old" ]; then
    count=$(wc -l <<<"$old")
    docker compose up --detach --wait --no-deps --no-recreate --scale "app=$((count * 2))" app
    sleep 10
    # shellcheck disable=SC2086 # one container id per word
    docker stop $old >/dev/null && docker rm $old >/dev/null
fi
docker compose up --detach --wait
for image in $images; do
    was=${replaced[$image]} previous=$(image_id "$image:previous")
    [ -n "$was" ] && [ "$was" != "$(image_id "$image:latest")" ] || continue
    docker tag "$was" "$image:previous"
    if [ -n "$previous" ] && [ "$previous" != "$was" ]; then
        docker rmi "$previous" >/dev/null 2>&1 || true
    fi
done
