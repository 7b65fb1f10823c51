{% include "install/absolute.sh" %}
certificate_options() {
    # The certificate comes from the ACME CA and is kept in the data volume.
    # The CA's own certificate, when it is not one the system trusts
    # (ACME_CA_BUNDLE: a PEM file), is mounted read-only.
    local bundle
    bundle=$(setting ACME_CA_BUNDLE)
    [ -n "$bundle" ] || return 0
    bundle=$(absolute "$bundle")
    [ -f "$bundle" ] || die "ACME_CA_BUNDLE '$bundle': no such file"
    options+=(--volume "$bundle:/run/acme/ca-bundle.pem:ro")
}

