#!/usr/bin/env bash
# Build the image and run the app as a container that comes back after a reboot.
#
#   ./install.sh [--port PORT] [--name NAME] [--image IMAGE]
#       build the image, then start the container, replacing one of the same name
#       the image it replaces stays as IMAGE:previous (one, for a rollback)
#   ./install.sh --rollback [--name NAME] [--image IMAGE]
#       run IMAGE:previous again in place of IMAGE (a second --rollback goes
#       forward again); refused when the database is at a migration it lacks
#   ./install.sh --uninstall [--yes] [--name NAME] [--image IMAGE]
#       remove the container and the images; the data volume (and the secret key in it) is kept
#   ./install.sh --logs [--name NAME]
#       follow the container's logs
#
# The port is HOST_PORT when that is set in .env or the shell, else the
# default below.
# The app's secret key is made on the first start and kept in the data volume;
# secrets/secret_key, when there, is mounted read-only instead (app/secret_key.py).
# Settings (docs/settings.md) in .env, or set in the shell as in
# NGINX_MAX_BODY_SIZE=50m ./install.sh, reach the container.
# --yes skips the question that --uninstall asks at a terminal.
set -euo pipefail

# The defaults.
default_port=1337
name=flask-app
image=flask-app

die() {
    echo "install.sh: $*" >&2
    exit 1
}

usage() {
    # The comment block at the top of this file, then the defaults.
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
    echo "Defaults: port $default_port, name $name, image $image."
}

check_docker() {
    command -v docker >/dev/null 2>&1 ||
        die "Docker is not installed; install Docker Engine, then run this again."
    docker info >/dev/null 2>&1 ||
        die "Docker is installed but does not answer: start it, or run as a user allowed to use it."
}

confirm() {
    # Ask only a person at a terminal; scripts and CI go ahead.
    [ -t 0 ] || return 0
    read -r -p "$1 [y/N] " answer
    [ "$answer" = y ] || [ "$answer" = Y ]
}

image_id() {
    # The id of the image a name:tag points to, or nothing.
    docker images --quiet --no-trunc "$1"
}

keep_previous() {
    # The image just replaced becomes $image:previous, and the one that was
    # :previous before goes: a re-install leaves two images, never a pile.
    local replaced=$1 previous
    previous=$(image_id "$image:previous")
    [ -n "$replaced" ] && [ "$replaced" != "$(image_id "$image:latest")" ] || return 0
    docker tag "$replaced" "$image:previous"
    if [ -n "$previous" ] && [ "$previous" != "$replaced" ]; then
        docker rmi "$previous" >/dev/null 2>&1 || true
    fi
}

discard_build() {
    # A new image that does not start goes, and $image:latest leads again to
    # the one it replaced (what runs): no broken image is left to roll back to.
    local replaced=$1 built
    built=$(image_id "$image:latest")
    [ "$built" != "$replaced" ] || return 0
    if [ -n "$replaced" ]; then
        docker tag "$replaced" "$image:latest"
    fi
    docker rmi "$built" >/dev/null 2>&1 || true
}

remove_container() {
    if docker container inspect "$1" >/dev/null 2>&1; then
        docker stop "$1" >/dev/null
        docker rm "$1" >/dev/null
    fi
}

setting() {
    # A run-time setting from the shell, else from .env, else empty.
    if [ -n "${!1:-}" ]; then
        echo "${!1}"
    elif [ -f .env ]; then
        sed -n "s/^$1=//p" .env | tail -n 1
    fi
}

options() {
    # Read-only but for /tmp. Files the app keeps (FLASK_DATA_DIR) live in a
    # named volume, which outlives the container: re-installing never loses
    # them, nor the secret key kept there. Settings in .env, and those set in
    # this shell (REQUEST_TIMEOUT, LOG_FORMAT, UWSGI_*, NGINX_*, FLASK_*, ACME_*,
    # SENTRY_DSN),
    # reach the container; others keep the image's defaults.
    # No Linux capabilities (nothing binds a port below 1024 or changes
    # owners), no privilege gained through setuid, at most 256 processes.
    # No memory or CPU limit unless MEMORY_LIMIT (512m) or CPU_LIMIT (1.5) is
    # set; a CPU limit also sets the uWSGI worker count.
    options=(--read-only --tmpfs /tmp --volume "$name-data:/srv/data"
        --cap-drop ALL --security-opt no-new-privileges --pids-limit 256)
    publish=(--publish "$port:8080") url="http://localhost:$port/"
    local variable limit
    if [ -f secrets/secret_key ]; then
        options+=(--volume "$PWD/secrets/secret_key:/run/secrets/secret_key:ro")
    fi
    limit=$(setting MEMORY_LIMIT)
    [ -z "$limit" ] || options+=(--memory "$limit")
    limit=$(setting CPU_LIMIT)
    [ -z "$limit" ] || options+=(--cpus "$limit")
    # Its log, capped (docs/operating.md#logs): files of LOG_MAX_SIZE, the
    # LOG_MAX_FILES newest kept, in the json-file format docker logs reads.
    limit=$(setting LOG_MAX_SIZE)
    options+=(--log-driver json-file --log-opt "max-size=${limit:-10m}")
    limit=$(setting LOG_MAX_FILES)
    options+=(--log-opt "max-file=${limit:-5}")
    if [ -f .env ]; then
        options+=(--env-file .env)
    fi
    for variable in $(compgen -e | grep -E '^((UWSGI|NGINX|FLASK|ACME)_.*|REQUEST_TIMEOUT|LOG_FORMAT|SENTRY_DSN)$'); do
        options+=(--env "$variable")
    done
}

starts() {
    # Whether image $1 starts: its start-up scripts (docker/*/entrypoint.d,
    # the migrations among them), nginx's configuration and the app's import,
    # tried in a throwaway container with the same options. What it printed
    # is shown, or with quiet kept in $started. A data volume made for the
    # try is removed again.
    local volume=kept status=0
    docker volume inspect "$name-data" >/dev/null 2>&1 || volume=new
    started=$(docker run --rm "${options[@]}" "$1" sh -c 'nginx -t -q && python3 -c "import wsgi"' 2>&1) || status=$?
    [ "${2:-}" = quiet ] || [ -z "$started" ] || echo "$started" >&2
    if [ "$status" != 0 ] && [ "$volume" = new ]; then
        docker volume rm "$name-data" >/dev/null
    fi
    return "$status"
}

replace() {
    # The container $name becomes one of $image, in a swap as short as a
    # port with one owner allows (about a second): the new container is made
    # beforehand (a port is taken at start only), the old one stops, the new
    # one starts. Should it not start, the old one is started again.
    remove_container "$name-new"
    docker create --name "$name-new" --restart unless-stopped \
        "${publish[@]}" "${options[@]}" "$image" >/dev/null
    local old=""
    if docker container inspect "$name" >/dev/null 2>&1; then
        old=$name
        docker stop "$old" >/dev/null
    fi
    if ! docker start "$name-new" >/dev/null; then
        docker rm "$name-new" >/dev/null
        [ -z "$old" ] || docker start "$old" >/dev/null
        return 1
    fi
    [ -z "$old" ] || docker rm "$old" >/dev/null
    docker rename "$name-new" "$name"
}

install() {
    # The new image must start before the old container is replaced, so a
    # failed build or start leaves the running service alone.
    local replaced
    options
    replaced=$(image_id "$image:latest")
    docker build --tag "$image" .
    if ! starts "$image"; then
        discard_build "$replaced"
        die "the new image does not start (see above); $name is left as it was"
    fi
    if ! replace; then
        discard_build "$replaced"
        die "the new container does not start (see above); $name is left as it was"
    fi
    keep_previous "$replaced"
    echo "$name is serving at $url"
}

rollback() {
    # IMAGE:previous and IMAGE trade tags, once the previous image is known
    # to start on the database as it is now.
    local previous latest revision
    options
    previous=$(image_id "$image:previous") latest=$(image_id "$image:latest")
    [ -n "$previous" ] || die "no $image:previous to roll back to (a re-install keeps the image it replaces)"
    if ! starts "$previous" quiet; then
        revision=$(sed -n "s/.*Can't locate revision identified by '\([^']*\)'.*/\1/p" <<<"$started" | head -n 1)
        [ -z "$revision" ] ||
            die "not rolled back: the database is at migration $revision, which $image:previous does not have; $name is left as it was"
        echo "$started" >&2
        die "not rolled back: $image:previous does not start (see above); $name is left as it was"
    fi
    docker tag "$previous" "$image:latest"
    if ! replace; then
        docker tag "$latest" "$image:latest"
        die "not rolled back: the previous container does not start (see above); $name is left as it was"
    fi
    docker tag "$latest" "$image:previous"
    echo "$name is back on the image it ran before, at $url; the one it replaced is $image:previous (a rollback again goes forward)"
}

logs() {
    docker logs --follow "$name"
}

uninstall() {
    if [ "$1" != yes ] && ! confirm "Remove container $name and image $image?"; then
        die "nothing removed"
    fi
    remove_container "$name"
    local tag
    for tag in "$image" "$image:previous"; do
        if docker image inspect "$tag" >/dev/null 2>&1; then
            docker rmi "$tag" >/dev/null
        fi
    done
    echo "Removed $name and $image. Kept: the data volume with the secret key" \
        "(docker volume rm $name-data deletes both, signing every user out)."
}

main() {
    local action=install yes=no
    while [ $# -gt 0 ]; do
        case "$1" in
            --port) port=${2:?--port needs a value} && shift ;;
            --name) name=${2:?--name needs a value} && shift ;;
            --image) image=${2:?--image needs a value} && shift ;;
            --uninstall) action=uninstall ;;
            --rollback) action=rollback ;;
            --logs) action=logs ;;
            -y | --yes) yes=yes ;;
            -h | --help) usage && exit 0 ;;
            *) usage >&2 && exit 2 ;;
        esac
        shift
    done
    cd "$(dirname "$0")"
    port=${port:-$(setting HOST_PORT)}
    port=${port:-$default_port}
    check_docker
    case "$action" in
        install) install ;;
        rollback) rollback ;;
        logs) logs ;;
        uninstall) uninstall "$yes" ;;
    esac
}

main "$@"
