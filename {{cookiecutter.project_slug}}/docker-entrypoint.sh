#!/bin/sh
# Write nginx's configuration from nginx.conf.template and the NGINX_*
# environment variables (defaults in the Dockerfile), then run the command.
# The result goes to /tmp, so the root filesystem can stay read-only.
set -eu

# Only NGINX_* variables are replaced; nginx's own $variables are left alone.
variables=$(env | sed -n 's/^\(NGINX_[A-Z_]*\)=.*/${\1}/p')
envsubst "$variables" </etc/nginx/nginx.conf.template >{{ cookiecutter._nginx_conf }}
exec "$@"
