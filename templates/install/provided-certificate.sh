make_certificate() {
    : # Yours, given by --cert and --key (docs/https.md): nothing to make.
}

