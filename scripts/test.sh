#!/usr/bin/env bash
# Run the template's whole test suite; installs what it needs first.
#   scripts/test.sh                 everything (bakes, lints, Docker builds)
#   scripts/test.sh -m "not docker" the fast part, without Docker
# Arguments go to pytest. The Docker tests start an engine themselves when
# none answers and this is root on Debian (see scripts/ensure-docker.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt

# nginx -t checks every baked nginx.conf with a real nginx.
if ! PATH="$PATH:/usr/sbin" command -v nginx >/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends nginx >/dev/null
    else
        echo "nginx is not installed: install it (e.g. apt-get install nginx) for the nginx -t tests." >&2
    fi
fi

exec "$venv/bin/python" -m pytest "$@"
