#!/bin/sh
# Certificates from an ACME CA (docs/https.md): check the ACME_* settings,
# serve a temporary self-signed certificate until the CA's is there, and start
# acme-renew's loop in the background, which gets the certificate once nginx
# runs and renews it.
set -eu

exec acme-renew --start
