#
# HTTPS: ./install.sh also takes [--https-port PORT] [--cert FILE --key FILE].
# HTTPS on port HTTPS_PORT (8443 unless set in .env or the shell) with
# certs/tls.crt and certs/tls.key, mounted read-only (yours;
# scripts/self-signed-cert.sh makes a test one).
