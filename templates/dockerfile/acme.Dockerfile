# Certificates from an ACME CA such as Let's Encrypt (docs/https.md): uacme,
# Debian's package, gets one for ACME_DOMAINS and renews it (acme-renew, in
# docker/acme/), answering the CA's HTTP-01 challenge through nginx. The
# account, keys and certificates live in ACME_DIR, on a volume, and nginx
# serves the certificate from NGINX_TLS_DIR there. The CAs trusted are the
# system's and the ACME CA's bundle, if one is mounted at
# /run/acme/ca-bundle.pem: acme-renew writes both at start to /tmp, where the
# system's bundle leads. The ACME_* settings' defaults are acme-renew's.
ENV ACME_DIR=/srv/data/acme \
    NGINX_TLS_DIR=/srv/data/acme/live
RUN --mount=type=cache,id=apt-cache-$TARGETARCH,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=apt-lists-$TARGETARCH,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
    && apt-get install -y --no-install-recommends uacme ca-certificates openssl \
    && mv /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.system.crt \
    && ln -s /tmp/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt \
    && install -d -o app -g app "$ACME_DIR"
COPY docker/acme/acme-renew /usr/local/bin/
COPY docker/acme/entrypoint.d/ /docker-entrypoint.d/
COPY docker/acme/acme-challenge.conf ${NGINX_SNIPPETS}/
