#!/usr/bin/env bash
# What the official redis image's entrypoint does: a first argument that is an
# option (-...) or a config file (*.conf) is given to redis-server; as root,
# redis-server gets the working directory's (/data's) files owned by redis
# (uid 999) and runs as redis; a umask of 0022 becomes 0077. Then what the
# official image compiles into redis-server: protected mode is off by default
# (Debian's is on), so --protected-mode no comes before the options, where
# any of them overrides it; not when the config file or the config given on
# stdin sets protected-mode (an included file is not looked into), nor before
# the options redis-server takes only first (--version, --help, ...).
set -Eeuo pipefail

if [ "${1#-}" != "${1-}" ] || [ "${1%.conf}" != "${1-}" ]; then
    set -- redis-server "$@"
fi

if [ "${1-}" = redis-server ] && [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

if [ "$(umask)" = 0022 ]; then
    umask 0077
fi

if [ "${1-}" = redis-server ]; then
    case "${2-}" in
        -v | --version | -h | --help | --test-memory | --check-system) exec "$@" ;;
    esac
    # redis-server [CONFIG-FILE | -] [OPTIONS...] [-]: the config file's
    # directives, then stdin's (with - first or last), then the options.
    head=("$1") config="" stdin=""
    shift
    if [ $# -gt 0 ] && [ "$1" = - ]; then
        head+=("$1") stdin=yes
        shift
    elif [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
        head+=("$1") config=$1
        shift
    fi
    if [ $# -gt 0 ] && [ "${!#}" = - ]; then
        stdin=yes
    fi
    sets_it='^[[:space:]]*protected-mode[[:space:]]'
    input=""
    if [ -n "$stdin" ]; then
        # Read here and handed on unchanged (a newline added at the end).
        input=$(cat && echo .)
        input=${input%.}
    fi
    if { [ -z "$config" ] || ! grep -qsiE "$sets_it" "$config"; } \
        && ! grep -qiE "$sets_it" <<<"$input"; then
        head+=(--protected-mode no)
    fi
    if [ -n "$stdin" ]; then
        exec "${head[@]}" "$@" <<<"$input"
    fi
    exec "${head[@]}" "$@"
fi

exec "$@"
