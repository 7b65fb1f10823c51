"""Alembic's environment, as Flask-Migrate runs it (`flask db ...`): the
app's database and models, from the Flask app."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

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


options = current_app.extensions["migrate"].configure_args
options.setdefault("process_revision_directives", skip_empty_revisions)
with db.engine.connect() as connection:
    context.configure(connection=connection, target_metadata=db.metadata, **options)
    with context.begin_transaction():
        context.run_migrations()
