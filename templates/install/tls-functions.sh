absolute() {
    case "$1" in
        /*) echo "$1" ;;
        *) echo "$PWD/$1" ;;
    esac
}

check_key_readable() {
    # nginx reads the key as the image's user.
    local uid
    uid=$(docker run --rm --entrypoint id "$image" -u)
    docker run --rm --entrypoint test --volume "$key:/key:ro" "$image" -r /key ||
        die "uid $uid cannot read $key: as root, chgrp $uid $key && chmod 640 $key"
}

