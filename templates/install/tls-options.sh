    # HTTPS: the certificate and key, checked first, mounted read-only.
    https_port=${https_port:-$(setting HTTPS_PORT)}
    https_port=${https_port:-8443}
    cert=${cert:-$PWD/certs/tls.crt}
    key=${key:-$PWD/certs/tls.key}
    check_certificate
    options+=(--env "NGINX_HTTPS_REDIRECT_PORT=$https_port"
        --volume "$cert:/etc/nginx/tls/tls.crt:ro" --volume "$key:/etc/nginx/tls/tls.key:ro")
    publish+=(--publish "$https_port:8443")
    url="https://localhost:$https_port/ (and redirects http://localhost:$port/)"
