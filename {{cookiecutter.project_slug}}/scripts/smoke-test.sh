#!/usr/bin/env bash
# Check a running deployment from outside: the health route and the home page
# must answer 200 through nginx. Used by CI; handy after ./install.sh too.
#   scripts/smoke-test.sh [BASE_URL]   (default http://localhost:$HOST_PORT)
set -euo pipefail

base_url=${1:-http://localhost:${HOST_PORT:-{{ cookiecutter.host_port }}}}

for path in /health /; do
    curl --fail --silent --show-error --retry 15 --retry-delay 1 --retry-all-errors \
        --output /dev/null --write-out "%{http_code} $path\n" "$base_url$path"
done
