"""The database: models with Flask-SQLAlchemy; their schema changes only
through the migrations in migrations/versions/ (Flask-Migrate, Alembic):
`flask db migrate -m "what changed"` writes one, `flask db upgrade` runs them.
Your models go here."""

import os
import sqlite3
from pathlib import Path

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase

from app import ready


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
# Batch mode: SQLite changes a table by copying it, and Alembic writes the
# migrations that way (harmless elsewhere).
migrate = Migrate(render_as_batch=True)


def database_url() -> str:
    """DATABASE_URL, with the password from the file DATABASE_PASSWORD_FILE
    names when there is one (so it never shows in `docker inspect`)."""
    url = make_url(os.environ["DATABASE_URL"])
    password_file = os.environ.get("DATABASE_PASSWORD_FILE")
    if password_file and Path(password_file).is_file():
        url = url.set(password=Path(password_file).read_text().strip())
    return url.render_as_string(hide_password=False)


def init_app(app: Flask) -> None:
    # No query here: uWSGI forks its workers after importing the app, and a
    # connection opened before would be shared by all of them.
    if "SQLALCHEMY_DATABASE_URI" not in app.config:  # tests set their own
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url()
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql":
        # A server that does not answer fails the connection (and /ready)
        # within seconds, not minutes.
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {"connect_timeout": ready.TIMEOUT})
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))


@ready.check("database")
def database_answers() -> None:
    db.session.execute(text("SELECT 1"))


@event.listens_for(Engine, "connect")
def sqlite_settings(connection, _record) -> None:
    """SQLite's write-ahead logging: readers never wait for the writer, and
    uWSGI's workers write in turn (waiting up to 5 s for each other)."""
    if not isinstance(connection, sqlite3.Connection):
        return
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
