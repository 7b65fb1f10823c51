    # HTTPS, and what its certificate needs.
    https_port=${https_port:-$(setting HTTPS_PORT)}
    https_port=${https_port:-8443}
    certificate_options
    options+=(--env "NGINX_HTTPS_REDIRECT_PORT=$https_port")
    publish+=(--publish "$https_port:8443")
    url="https://localhost:$https_port/ (and redirects http://localhost:$port/)"
