#!/usr/bin/env bash
# Build and start the containers, or update running ones without an outage
# (make up runs this). Plain Compose has no rolling update, so:
#   1. build the images and run any migrations: one that fails stops here,
#      and the images built go again
#   2. start new app replicas beside the running ones, and wait until they are healthy
#   3. wait 10 s, until nginx has looked the app's addresses up again
#   4. stop the old replicas (each finishes its requests in flight) and remove them
#   5. docker compose up: the proxy is replaced only if its image or settings changed
#      (static files, nginx.conf.template), which takes it away for about a second.
#   6. each image replaced stays as NAME:previous (one, for a rollback); the one
#      that was :previous before is removed, so updates do not fill the disk.
#      An image the update left as it was keeps no :previous.
# scripts/deploy.sh --rollback (make rollback) goes back to the :previous
# images the same way, in place of 1: they trade tags with the current ones
# (a second rollback goes forward again). It is refused when the database is
# at a migration the previous app image does not have.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
    echo "deploy.sh: $*" >&2
    exit 1
}

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

# The new images, then the migrations they bring, where there is a database.
has_migrate() {
    docker compose config --services | grep -qx migrate
}
build() {
    docker compose build && { ! has_migrate || docker compose run --rm migrate; }
}

# Each image with a :previous and its current one trade tags.
swap_tags() {
    local image previous
    for image in $images; do
        previous=$(image_id "$image:previous")
        [ -n "$previous" ] || continue
        docker tag "$image:latest" "$image:swapping"
        docker tag "$previous" "$image:latest"
        docker tag "$image:swapping" "$image:previous"
        docker rmi "$image:swapping" >/dev/null
    done
}

if [ "${1:-}" = --rollback ]; then
    app=$(grep -E -- '-app$' <<<"$images")
    [ -n "$(image_id "$app:previous")" ] ||
        die "no $app:previous to roll back to (an update keeps the image it replaces)"
    swap_tags
    if ! started=$(docker compose run --rm --no-deps -T app \
        sh -c 'test ! -d migrations || flask db current' 2>&1); then
        swap_tags
        revision=$(sed -n "s/.*Can't locate revision identified by '\([^']*\)'.*/\1/p" <<<"$started" | head -n 1)
        [ -z "$revision" ] ||
            die "not rolled back: the database is at migration $revision, which $app:previous does not have; nothing changed"
        echo "$started" >&2
        die "not rolled back: $app:previous does not start (see above); nothing changed"
    fi
    replaced=()
elif ! build; then
    # What was built goes again, and each name leads to what runs: no
    # broken image is left to become :previous.
    for image in $images; do
        was=${replaced[$image]} built=$(image_id "$image:latest")
        [ -n "$was" ] && [ "$was" != "$built" ] || continue
        docker tag "$was" "$image:latest"
        docker rmi "$built" >/dev/null 2>&1 || true
    done
    die "the update does not build or migrate (see above); the running containers are left as they were"
fi
old=$(docker compose ps --quiet app)
if [ -n "$old" ]; then
    count=$(wc -l <<<"$old")
    docker compose up --detach --wait --no-deps --no-recreate --scale "app=$((count * 2))" app
    sleep 10
    # shellcheck disable=SC2086 # one container id per word
    docker stop $old >/dev/null && docker rm $old >/dev/null
fi
if ! docker compose up --detach --wait; then
    # Compose says a one-off failed but not why; the migration's log does.
    ! has_migrate || docker compose logs --no-log-prefix --tail 30 migrate >&2
    die "the containers did not all start (see above)"
fi

# The images this update replaced, each between spaces.
changed=""
for image in $images; do
    was=${replaced[$image]:-}
    if [ -n "$was" ] && [ "$was" != "$(image_id "$image:latest")" ]; then
        changed+=" $image "
    fi
done
# Once an update replaced any, the :previous images are what ran before it:
# those it replaced, and none of the others (an older one would roll them
# back further than the rest).
[ -n "$changed" ] || exit 0
for image in $images; do
    previous=$(image_id "$image:previous")
    if [[ $changed == *" $image "* ]]; then
        docker tag "${replaced[$image]}" "$image:previous"
        [ -z "$previous" ] || [ "$previous" = "${replaced[$image]}" ] ||
            docker rmi "$previous" >/dev/null 2>&1 || true
    elif [ -n "$previous" ]; then
        docker rmi "$image:previous" >/dev/null 2>&1 || true
    fi
done
