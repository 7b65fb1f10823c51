#!/bin/sh
# Write nginx's configuration from its template (NGINX_TEMPLATE) and the
# settings (defaults: the Dockerfile's ENV) to NGINX_RUN_DIR, where the
# image's /etc/nginx/nginx.conf leads, so the root filesystem can stay
# read-only.
set -eu

generated=$NGINX_RUN_DIR

die() {
    echo "20-render-config.sh: $*" >&2
    exit 1
}

case "$LOG_FORMAT" in
    text | json) ;;
    *) die "LOG_FORMAT '$LOG_FORMAT': use text or json" ;;
esac
case "$NGINX_WORKER_CONNECTIONS" in
    '' | *[!0-9]*) die "NGINX_WORKER_CONNECTIONS '$NGINX_WORKER_CONNECTIONS': use a number" ;;
esac
case "$NGINX_LIMIT_CONN" in
    *[!0-9]*) die "NGINX_LIMIT_CONN '$NGINX_LIMIT_CONN': use a number of requests, or nothing for no limit" ;;
esac
if [ -n "$NGINX_LIMIT_REQ" ] && ! echo "$NGINX_LIMIT_REQ" | grep -Eqx '[1-9][0-9]*r/[sm]( burst=[0-9]+)?'; then
    die "NGINX_LIMIT_REQ '$NGINX_LIMIT_REQ': use a rate and an optional burst, as in '10r/s burst=20', or nothing for no limit"
fi

# nginx waits for uWSGI 5 s longer than uWSGI lets a request run (harakiri =
# REQUEST_TIMEOUT), so the two can never be set in the wrong order.
NGINX_UWSGI_READ_TIMEOUT=$((REQUEST_TIMEOUT + 5))s

# nginx may open as many files as the container may: its hard limit, which an
# unprivileged process can reach but not raise. Its connections must fit.
# shellcheck disable=SC3045 # Debian's and Ubuntu's sh (dash) has ulimit -H
NGINX_RLIMIT_NOFILE=$(ulimit -Hn)
[ "$NGINX_RLIMIT_NOFILE" != unlimited ] || NGINX_RLIMIT_NOFILE=1048576
if [ "$NGINX_WORKER_CONNECTIONS" -gt "$NGINX_RLIMIT_NOFILE" ]; then
    echo "20-render-config.sh: $NGINX_RLIMIT_NOFILE connections per nginx worker, not" \
        "$NGINX_WORKER_CONNECTIONS: the container may open no more files (docker run --ulimit nofile=N)" >&2
    NGINX_WORKER_CONNECTIONS=$NGINX_RLIMIT_NOFILE
fi
export NGINX_UWSGI_READ_TIMEOUT NGINX_RLIMIT_NOFILE NGINX_WORKER_CONNECTIONS

mkdir -p "$generated"

# The load balancers trusted with the client's address and request id, one
# address or CIDR per line, for set_real_ip_from and the geo block.
: >"$generated/real-ip.conf"
: >"$generated/trusted-proxies.conf"
for address in $NGINX_REAL_IP_FROM; do
    echo "set_real_ip_from $address;" >>"$generated/real-ip.conf"
    echo "$address 1;" >>"$generated/trusted-proxies.conf"
done

# The addresses /metrics answers (the template denies everyone else).
: >"$generated/metrics-from.conf"
for address in $NGINX_METRICS_FROM; do
    echo "allow $address;" >>"$generated/metrics-from.conf"
done

# The per-client limits, on the client's address as real-ip found it.
: >"$generated/limits.conf"
: >"$generated/limit-req.conf"
if [ -n "$NGINX_LIMIT_CONN" ]; then
    echo "limit_conn_zone \$binary_remote_addr zone=per_client_conn:10m;" >>"$generated/limits.conf"
    echo "limit_conn per_client_conn $NGINX_LIMIT_CONN;" >>"$generated/limits.conf"
fi
if [ -n "$NGINX_LIMIT_REQ" ]; then
    rate=${NGINX_LIMIT_REQ%% *}
    echo "limit_req_zone \$binary_remote_addr zone=per_client_rate:10m rate=$rate;" >>"$generated/limits.conf"
    # Within the burst, requests go through at once (nodelay), not queued.
    echo "limit_req zone=per_client_rate${NGINX_LIMIT_REQ#"$rate"} nodelay;" >"$generated/limit-req.conf"
fi

# With HTTPS (images that set NGINX_TLS_PORT), HTTP/2 for clients that offer
# it: nginx 1.25.1 and later switch it on with `http2 on`, older ones (Debian
# 12's, Ubuntu 24.04's) on the listen line.
if [ -n "${NGINX_TLS_PORT:-}" ]; then
    version=$(nginx -v 2>&1 | sed 's|.*nginx/||')
    if [ "$(printf '%s\n' 1.25.1 "$version" | sort -V | head -n 1)" = 1.25.1 ]; then
        printf 'listen %s ssl default_server;\nhttp2 on;\n' "$NGINX_TLS_PORT"
    else
        echo "listen $NGINX_TLS_PORT ssl http2 default_server;"
    fi >"$generated/listen-https.conf"
fi

# Only these variables are replaced; nginx's own $variables are left alone.
variables=$(env | sed -n 's/^\(NGINX_[A-Z_]*\|LOG_FORMAT\|UWSGI_SOCKET\)=.*/${\1}/p')
envsubst "$variables" <"$NGINX_TEMPLATE" >"$generated/nginx.conf"
