# HTTPS: nginx also listens on NGINX_TLS_PORT, with the certificate and key
# in NGINX_TLS_DIR. HSTS's header and the port plain HTTP is redirected to
# (the one clients reach) are settings too.
ENV NGINX_TLS_PORT=8443 \
    NGINX_TLS_DIR=/etc/nginx/tls \
    NGINX_HSTS=max-age=63072000 \
    NGINX_HTTPS_REDIRECT_PORT=443
EXPOSE ${NGINX_TLS_PORT}
{% if cookiecutter.https == "acme" %}{% include "dockerfile/acme.Dockerfile" %}{% endif %}
