#
# HTTPS: ./install.sh also takes [--https-port PORT].
# HTTPS on port HTTPS_PORT (8443 unless set in .env or the shell), with a
# certificate for ACME_DOMAINS from an ACME CA, Let's Encrypt unless
# ACME_DIRECTORY says otherwise (docs/https.md). The CA asks for the site on
# port 80: install with --port 80 --https-port 443.
