"""What a baked project's image and deployments set, as the tests (and the
benchmark, which runs without pytest) expect it. The template writes each fact
once, where it takes effect (the Dockerfile's ARG and ENV, a script's
default); these are the tests' own copies, so that a change there fails a
test instead of passing unseen."""

IMAGE = {
    "container_port": "8080",
    "app_port": "3031",
    "container_tls_port": "8443",
    "tls_dir": "/etc/nginx/tls",
    "acme_dir": "/srv/data/acme",
    "acme_ca_bundle": "/run/acme/ca-bundle.pem",
    "static_url_path": "/static",
    "static_root": "/var/www/static",
    "data_dir": "/srv/data",
    "secret_key_file": "/run/secrets/secret_key",
    "secret_key_path": "secrets/secret_key",
    "db_password_file": "/run/secrets/db_password",
    "postgres_image": "postgres:17",
    "redis_image": "redis:8",
    "broker_password_file": "/run/broker/password",
    "uid": "10001",
    "pids_limit": "256",
}
# The image's settings and their defaults (docs/settings.md, .env.example), by
# the part of the stack that reads them.
IMAGE_SETTINGS = {
    "common": {"REQUEST_TIMEOUT": "30", "LOG_FORMAT": "text"},
    "uwsgi": {"UWSGI_PROCESSES": "auto", "UWSGI_LISTEN": "1024", "SENTRY_DSN": ""},
    "nginx": {
        "NGINX_WORKER_PROCESSES": "1",
        "NGINX_WORKER_CONNECTIONS": "16384",
        "NGINX_KEEPALIVE_TIMEOUT": "15s",
        "NGINX_LIMIT_CONN": "",
        "NGINX_LIMIT_REQ": "",
        "NGINX_MAX_BODY_SIZE": "10m",
        "NGINX_STATIC_MAX_AGE": "1h",
        "NGINX_CSP": "default-src 'self'; frame-ancestors 'none'",
        "NGINX_REAL_IP_FROM": "",
        "NGINX_METRICS_FROM": "",
    },
    "proxy": {"NGINX_RESOLVER": "127.0.0.11", "NGINX_APP_UPSTREAM": "app:3031"},
    "tls": {"NGINX_HSTS": "max-age=63072000", "NGINX_HTTPS_REDIRECT_PORT": "443"},
    "acme": {
        "ACME_DOMAINS": "",
        "ACME_EMAIL": "",
        "ACME_DIRECTORY": "https://acme-v02.api.letsencrypt.org/directory",
        "ACME_CHECK_INTERVAL": "43200",
        "ACME_RENEW_DAYS": "30",
    },
    "worker": {
        "BROKER_URL": "redis://broker:6379/0",
        "WORKER_TIME_LIMIT": "120",
        "WORKER_CONCURRENCY": "",
    },
    "database": {
        "none": {},
        "sqlite": {"DATABASE_URL": "sqlite:////srv/data/app.db"},
        "postgres": {"DATABASE_URL": "postgresql+psycopg://app@db/app"},
    },
}
