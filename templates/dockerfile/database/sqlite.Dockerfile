# The database: `flask db upgrade` and the other `flask` commands find the app
# by FLASK_APP; DATABASE_URL is a setting (docs/settings.md).
ENV FLASK_APP=wsgi \
    DATABASE_URL=sqlite:////srv/data/app.db
COPY migrations/ migrations/
RUN python3 -m compileall -q app wsgi.py migrations
