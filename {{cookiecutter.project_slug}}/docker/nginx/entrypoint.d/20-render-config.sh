#!/bin/sh
# Write nginx's configuration from its template and the settings (defaults:
# the Dockerfile's ENV) to {{ cookiecutter._nginx_conf }}, so the root filesystem can stay
# read-only.
set -eu

case "$LOG_FORMAT" in
    text | json) ;;
    *)
        echo "20-render-config.sh: LOG_FORMAT '$LOG_FORMAT': use text or json" >&2
        exit 1
        ;;
esac

# nginx waits for uWSGI 5 s longer than uWSGI lets a request run (harakiri =
# REQUEST_TIMEOUT), so the two can never be set in the wrong order.
NGINX_UWSGI_READ_TIMEOUT=$((REQUEST_TIMEOUT + 5))s
export NGINX_UWSGI_READ_TIMEOUT

# The load balancers trusted with the client's address and request id, one
# address or CIDR per line, for set_real_ip_from and the geo block.
mkdir -p {{ cookiecutter._nginx_generated }}
: >{{ cookiecutter._nginx_generated }}/real-ip.conf
: >{{ cookiecutter._nginx_generated }}/trusted-proxies.conf
for address in $NGINX_REAL_IP_FROM; do
    echo "set_real_ip_from $address;" >>{{ cookiecutter._nginx_generated }}/real-ip.conf
    echo "$address 1;" >>{{ cookiecutter._nginx_generated }}/trusted-proxies.conf
done

# Only these variables are replaced; nginx's own $variables are left alone.
variables=$(env | sed -n 's/^\(NGINX_[A-Z_]*\|LOG_FORMAT\)=.*/${\1}/p')
envsubst "$variables" <{{ cookiecutter._nginx_template }} >{{ cookiecutter._nginx_conf }}
