#!/usr/bin/env bash
# Build the image and run {{ cookiecutter.project_name }} as a container that comes back after a reboot.
#
#   ./install.sh                  build, then start (or replace) the container
#   ./install.sh --uninstall [-y] remove the container and the image (keeps the data volume)
#
# Settings, from the environment:
#   HOST_PORT       port on this machine (default {{ cookiecutter.host_port }})
#   CONTAINER_NAME  (default {{ cookiecutter.container_name }})
#   IMAGE_NAME      (default {{ cookiecutter.image_name }})
set -euo pipefail

HOST_PORT=${HOST_PORT:-{{ cookiecutter.host_port }}}
CONTAINER_NAME=${CONTAINER_NAME:-{{ cookiecutter.container_name }}}
IMAGE_NAME=${IMAGE_NAME:-{{ cookiecutter.image_name }}}
# Files the app keeps (DATA_DIR) live in a named volume, so replacing the
# container never loses them.
DATA_VOLUME="$CONTAINER_NAME-data"

die() {
    echo "install.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "$0"
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

remove_container() {
    if docker container inspect "$CONTAINER_NAME" >/dev/null 2>&1; then
        docker stop "$CONTAINER_NAME" >/dev/null
        docker rm "$CONTAINER_NAME" >/dev/null
    fi
}

install() {
    docker build --tag "$IMAGE_NAME" .
    # The new image is ready: only now replace the old container, so a
    # failed build leaves the running service alone.
    remove_container
    docker run --detach \
        --name "$CONTAINER_NAME" \
        --restart unless-stopped \
        --publish "$HOST_PORT:{{ cookiecutter._container_port }}" \
        --volume "$DATA_VOLUME:/srv/data" \
        "$IMAGE_NAME" >/dev/null
    echo "$CONTAINER_NAME is serving at http://localhost:$HOST_PORT/"
}

uninstall() {
    local yes=$1
    if [ "$yes" != yes ] && ! confirm "Remove container $CONTAINER_NAME and image $IMAGE_NAME?"; then
        die "nothing removed"
    fi
    remove_container
    if docker image inspect "$IMAGE_NAME" >/dev/null 2>&1; then
        docker rmi "$IMAGE_NAME" >/dev/null
    fi
    echo "Removed $CONTAINER_NAME and $IMAGE_NAME; data volume $DATA_VOLUME is kept" \
        "(docker volume rm $DATA_VOLUME deletes it)."
}

main() {
    cd "$(dirname "$0")"
    case "${1:-}" in
        "") check_docker && install ;;
        --uninstall)
            case "${2:-}" in
                "") check_docker && uninstall no ;;
                -y | --yes) check_docker && uninstall yes ;;
                *) usage >&2 && exit 2 ;;
            esac
            ;;
        -h | --help) usage ;;
        *) usage >&2 && exit 2 ;;
    esac
}

main "$@"
