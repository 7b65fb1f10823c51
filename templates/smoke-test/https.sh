# Over HTTPS; certs/tls.crt is trusted when it is there: a self-signed one
# passes too. --insecure (first) trusts any certificate, such as the
# temporary one of an ACME CA's deployment that has none yet.
if [ "${1:-}" = --insecure ]; then
    curl_options+=(--insecure)
    shift
fi
base_url=${1:-https://localhost:${HTTPS_PORT:-8443}}
cacert=$(dirname "$0")/../certs/tls.crt
if [ -f "$cacert" ]; then
    curl_options+=(--cacert "$cacert")
fi
