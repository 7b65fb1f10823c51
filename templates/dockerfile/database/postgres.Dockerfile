# The database: `flask db upgrade` and the other `flask` commands find the app
# by FLASK_APP; DATABASE_URL is a setting (docs/settings.md). Every deployment
# mounts the database's password at DATABASE_PASSWORD_FILE (app/database.py):
# a path, not a secret.
# hadolint ignore=DL3064
ENV FLASK_APP=wsgi \
    DATABASE_PASSWORD_FILE=/run/secrets/db_password \
    DATABASE_URL=postgresql+psycopg://app@db/app
COPY migrations/ migrations/
RUN python3 -m compileall -q app wsgi.py migrations
