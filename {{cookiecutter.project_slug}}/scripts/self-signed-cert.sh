#!/usr/bin/env bash
# Make a self-signed certificate for development: certs/tls.crt and
# certs/tls.key (git-ignored), valid for localhost, 127.0.0.1 and ::1.
# Browsers warn about it; `curl --cacert certs/tls.crt` trusts it.
#   scripts/self-signed-cert.sh [HOSTNAME]   another name it is valid for
# A certificate already there is kept, unless it is self-signed and expires
# within 30 days: a real one is never replaced.
set -euo pipefail
cd "$(dirname "$0")/.."

cert=certs/tls.crt
key=certs/tls.key
host=${1:-localhost}

command -v openssl >/dev/null 2>&1 || {
    echo "self-signed-cert.sh: openssl is not installed" >&2
    exit 1
}
if [ -f "$cert" ] && [ -f "$key" ]; then
    subject=$(openssl x509 -noout -subject -nameopt compat -in "$cert" | sed 's/^subject=//')
    issuer=$(openssl x509 -noout -issuer -nameopt compat -in "$cert" | sed 's/^issuer=//')
    if [ "$subject" != "$issuer" ] || openssl x509 -noout -checkend 2592000 -in "$cert" >/dev/null; then
        exit 0
    fi
fi

mkdir -p certs
(
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
        -subj "/CN=$host" -addext "subjectAltName=DNS:$host,DNS:localhost,IP:127.0.0.1,IP:::1" \
        -keyout "$key" -out "$cert" 2>/dev/null
)
chmod 644 "$cert"
# The image's uid: the Dockerfile's APP_UID (or $APP_UID, for a build given another).
app_uid=${APP_UID:-$(sed -n 's/^ARG APP_UID=//p' Dockerfile)}
# nginx reads the key as that uid in the container. As root, share it with
# that group only; otherwise it has to be readable by all: a development key.
if [ "$(id -u)" = 0 ]; then
    chgrp "$app_uid" "$key" && chmod 640 "$key"
else
    chmod 644 "$key"
fi
echo "Made $cert and $key (self-signed, for $host)"
