make_certificate() {
    # For development: make (or renew) the self-signed certificate in
    # certs/, unless --cert names another one.
    [ "$cert" != "$PWD/certs/tls.crt" ] || scripts/self-signed-cert.sh
}

