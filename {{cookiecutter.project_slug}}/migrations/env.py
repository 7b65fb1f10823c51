"""Alembic's environment, as Flask-Migrate runs it (`flask db ...`): the
app's database and models, from the Flask app."""

import logging
import time
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy.exc import OperationalError

config = context.config
# Alembic's own log lines; the app's loggers stay as they are.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")
db = current_app.extensions["migrate"].db


def skip_empty_revisions(context, revision, directives):
    """`flask db migrate` writes no migration when the models did not change."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def connect(patience=60):
    """A connection to the app's database, waited for up to patience seconds:
    a server that is starting, failing over or slow under load refuses or
    times out for a moment, and a deployment should not fail for that.
    SQLite's file opens or not: no wait."""
    if db.engine.dialect.name == "sqlite":
        patience = 0
    deadline = time.monotonic() + patience
    while True:
        try:
            return db.engine.connect()
        except OperationalError as error:
            if time.monotonic() > deadline:
                raise
            reason = str(error.orig).strip().splitlines()[0]
            logger.warning("The database does not answer (%s); trying again.", reason)
            time.sleep(2)


options = current_app.extensions["migrate"].configure_args
options.setdefault("process_revision_directives", skip_empty_revisions)
with connect() as connection:
    context.configure(connection=connection, target_metadata=db.metadata, **options)
    with context.begin_transaction():
        context.run_migrations()
