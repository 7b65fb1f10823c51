#!/usr/bin/env bash
# Check a running deployment from outside: the health route and the home page
# must answer 200, served by nginx. Used by CI; handy after make up too.
#   scripts/smoke-test.sh [BASE_URL]   (default: localhost, on the port HOST_PORT,
#                                     or HTTPS_PORT with HTTPS{{ "; --insecure first" if cookiecutter.https != "none" }})
set -euo pipefail

curl_options=(--silent --show-error)
{% include "smoke-test/" ~ ("http" if cookiecutter.https == "none" else "https") ~ ".sh" %}

fail() {
    echo "smoke-test.sh: $*" >&2
    exit 1
}

for path in /health /; do
    # Wait for an answer: --fail makes errors (a 502 while the app starts) worth a retry.
    curl "${curl_options[@]}" --fail --retry 15 --retry-delay 1 --retry-all-errors \
        --output /dev/null "$base_url$path"
    # Then look at one answer's status and server.
    headers=$(curl "${curl_options[@]}" --output /dev/null --dump-header - "$base_url$path" | tr -d '\r')
    status=$(awk 'NR == 1 { print $2 }' <<<"$headers")
    server=$(awk -F ': *' 'tolower($1) == "server" { print $2 }' <<<"$headers")
    echo "$status $path (server: ${server:-none})"
    [ "$status" = 200 ] || fail "$path answered $status, not 200"
    [[ $server == nginx* ]] || fail "$path was not answered by nginx"
done
