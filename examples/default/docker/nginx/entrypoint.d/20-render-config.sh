#!/bin/sh
# Write nginx's configuration from its template and the NGINX_* environment
# variables (defaults: the Dockerfile's ENV) to /tmp/nginx.conf, so
# the root filesystem can stay read-only.
set -eu

# Only NGINX_* variables are replaced; nginx's own $variables are left alone.
variables=$(env | sed -n 's/^\(NGINX_[A-Z_]*\)=.*/${\1}/p')
envsubst "$variables" </etc/nginx/templates/nginx.conf.template >/tmp/nginx.conf
