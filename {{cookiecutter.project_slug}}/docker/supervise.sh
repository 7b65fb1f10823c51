#!/usr/bin/env bash
# Run uWSGI and nginx side by side: the one-container deployment's CMD.
#  - docker stop (SIGTERM): nginx stops taking connections and finishes the
#    requests in flight, then uWSGI finishes its own and exits; exit 0.
#  - If either process dies, stop the other and exit 1: Docker's restart
#    policy then starts a fresh container. Never running with half of it dead.
set -uo pipefail

uwsgi --ini uwsgi.ini &
uwsgi_pid=$!
nginx &
nginx_pid=$!

# shellcheck disable=SC2329 # invoked by the trap below
stop() {
    kill -QUIT "$nginx_pid" 2>/dev/null # nginx's graceful shutdown
    wait "$nginx_pid"
    kill -TERM "$uwsgi_pid" 2>/dev/null # graceful too, see uwsgi.ini
    wait "$uwsgi_pid"
    exit 0
}
trap stop TERM INT

wait -n "$uwsgi_pid" "$nginx_pid"
echo "supervise.sh: uWSGI or nginx exited; stopping the container" >&2
kill -TERM "$uwsgi_pid" "$nginx_pid" 2>/dev/null
wait
exit 1
