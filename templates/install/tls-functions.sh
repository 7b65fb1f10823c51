{% include "install/absolute.sh" %}
check_key_readable() {
    # nginx reads the key as the image's user.
    local uid
    uid=$(docker run --rm --entrypoint id "$image" -u)
    docker run --rm --entrypoint test --volume "$key:/key:ro" "$image" -r /key ||
        die "uid $uid cannot read $key: as root, chgrp $uid $key && chmod 640 $key"
}

certificate_options() {
    # The certificate and key, checked first, mounted read-only.
    cert=${cert:-$PWD/certs/tls.crt}
    key=${key:-$PWD/certs/tls.key}
    check_certificate
    options+=(--volume "$cert:/etc/nginx/tls/tls.crt:ro" --volume "$key:/etc/nginx/tls/tls.key:ro")
}

check_certificate() {
    make_certificate
    [ -f "$cert" ] || die "no certificate at $cert: pass --cert FILE --key FILE"
    [ -f "$key" ] || die "no private key at $key: pass --key FILE"
    command -v openssl >/dev/null 2>&1 || die "openssl is needed to check the certificate; install it"
    openssl x509 -noout -in "$cert" 2>/dev/null || die "$cert is not a PEM certificate"
    [ "$(openssl x509 -noout -pubkey -in "$cert")" = "$(openssl pkey -pubout -in "$key" 2>/dev/null)" ] ||
        die "$key is not the private key of $cert"
    openssl x509 -noout -checkend 0 -in "$cert" >/dev/null || die "$cert has expired"
}

{% include "install/" ~ cookiecutter.https ~ "-certificate.sh" %}
