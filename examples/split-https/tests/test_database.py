"""The database's schema is the migrations' (migrations/versions/)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.database import db


def test_the_migrations_make_the_models_schema(app):
    # A model changed without `flask db migrate` shows here as a difference.
    with app.app_context(), db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
