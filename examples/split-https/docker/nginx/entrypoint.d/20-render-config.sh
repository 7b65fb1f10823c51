#!/bin/sh
# Write nginx's configuration from its template and the NGINX_* environment
# variables (defaults: the Dockerfile's ENV) to /tmp/nginx.conf, so
# the root filesystem can stay read-only.
set -eu

# nginx waits for uWSGI 5 s longer than uWSGI lets a request run (harakiri =
# REQUEST_TIMEOUT), so the two can never be set in the wrong order.
NGINX_UWSGI_READ_TIMEOUT=$((REQUEST_TIMEOUT + 5))s
export NGINX_UWSGI_READ_TIMEOUT

# Only NGINX_* variables are replaced; nginx's own $variables are left alone.
variables=$(env | sed -n 's/^\(NGINX_[A-Z_]*\)=.*/${\1}/p')
envsubst "$variables" </etc/nginx/templates/nginx.conf.template >/tmp/nginx.conf
