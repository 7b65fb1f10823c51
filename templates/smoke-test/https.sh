# Over HTTPS; certs/tls.crt is trusted when it is there: a self-signed one
# passes too.
base_url=${1:-https://localhost:${HTTPS_PORT:-8443}}
cacert=$(dirname "$0")/../certs/tls.crt
if [ -f "$cacert" ]; then
    curl_options+=(--cacert "$cacert")
fi
