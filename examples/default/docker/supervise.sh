#!/usr/bin/env bash
# Run uWSGI and nginx side by side: the one-container deployment's CMD.
#  - nginx starts once uWSGI's socket is there: a request that comes while
#    the app loads waits in uWSGI's backlog instead of failing (502).
#  - docker stop (SIGTERM): nginx stops taking connections and finishes the
#    requests in flight, then uWSGI, which has none left, stops; exit 0.
#  - If either process dies, stop the other and exit 1: Docker's restart
#    policy then starts a fresh container. Never running with half of it dead.
set -uo pipefail

uwsgi --ini uwsgi.ini &
uwsgi_pid=$!
while [ ! -S "$UWSGI_SOCKET" ] && kill -0 "$uwsgi_pid" 2>/dev/null; do
    sleep 0.02
done
nginx &
nginx_pid=$!

# shellcheck disable=SC2329 # invoked by the trap below
stop() {
    kill -QUIT "$nginx_pid" 2>/dev/null # nginx's graceful shutdown
    wait "$nginx_pid"
    # No request is left in flight, and only nginx reaches uWSGI's socket:
    # its workers stop at once (SIGINT). Its master would take a second more
    # to notice; not waiting for it lets a re-install's new container start
    # that much sooner (the container's end stops it).
    kill -INT "$uwsgi_pid" 2>/dev/null
    exit 0
}
trap stop TERM INT

wait -n "$uwsgi_pid" "$nginx_pid"
echo "supervise.sh: uWSGI or nginx exited; stopping the container" >&2
kill -TERM "$uwsgi_pid" "$nginx_pid" 2>/dev/null
wait
exit 1
