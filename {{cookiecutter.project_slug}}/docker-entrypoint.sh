#!/bin/sh
# Write nginx's configuration from nginx.conf.template and the NGINX_*
# environment variables (defaults in the Dockerfile), then run the command.
# The result goes to /tmp, so the root filesystem can stay read-only.
set -eu

# Only these variables are replaced; nginx's own $variables are left alone.
# shellcheck disable=SC2016
envsubst '${NGINX_WORKER_PROCESSES} ${NGINX_MAX_BODY_SIZE} ${NGINX_ACCESS_LOG}' \
    </etc/nginx/nginx.conf.template >{{ cookiecutter._nginx_conf }}
exec "$@"
