# shellcheck shell=bash
# Sourced by the make-*-image.sh scripts, which make a stand-in for an image
# when the engine lacks it and no registry can be reached.

# The label every stand-in carries: the version of the script that made it.
label=org.flask-docker.stand-in

# take_lock IMAGE: wait until no other maker of IMAGE runs (the test suite
# makes the ones it will need in the background while a test may ask for one),
# then hold its lock (fd 8) until this script ends: whoever waited finds it
# made. Opened for reading, so that a lock another user made is ours to take.
take_lock() {
    local lock=/tmp/flask-docker-${1//[:\/]/_}.lock
    [ -e "$lock" ] || : >"$lock"
    exec 8<"$lock"
    flock 8
}

# needs_making IMAGE VERSION [PLATFORM]: whether to make IMAGE (its lock
# taken). Not when it is there (a pulled image is never replaced; a stand-in
# only when an older version of its script made it) or when it can be pulled.
needs_making() {
    local image=$1 version=$2 platform=${3:-} made_by
    take_lock "$image"
    if docker image inspect "$image" >/dev/null 2>&1; then
        made_by=$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$image")
        case "$made_by" in
            "" | "$version") return 1 ;;
        esac
        echo "replacing $image, a stand-in of version $made_by" >&2
        return 0
    fi
    ! timeout 60 docker pull -q ${platform:+--platform "$platform"} "$image" >/dev/null 2>&1
}

# make_on_debian IMAGE VERSION SUITE FOLDER PACKAGE [NAME=VALUE...]: build IMAGE
# from FOLDER on Debian SUITE's stand-in (BASE_IMAGE), with the build
# arguments given, labelled with VERSION and the Debian PACKAGE it holds.
make_on_debian() {
    local image=$1 version=$2 suite=$3 folder=$4 package=$5
    shift 5
    ./make-debian-base-image.sh "$suite"
    DOCKER_BUILDKIT=1 docker build --quiet --tag "$image" \
        --build-arg BASE_IMAGE="debian:$suite-slim" "${@/#/--build-arg=}" --label "$label=$version" \
        --label "org.opencontainers.image.description=local stand-in for $image (Debian $suite's $package)" \
        "$folder" >/dev/null
    echo "made $image from Debian $suite's $package" >&2
}
