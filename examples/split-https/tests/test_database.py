"""The database's schema is the migrations' (migrations/versions/), and the
app is not ready while the database does not answer."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app import create_app
from app.database import db


def test_the_migrations_make_the_models_schema(app):
    # A model changed without `flask db migrate` shows here as a difference.
    with app.app_context(), db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []


def test_not_ready_while_the_database_does_not_answer(tmp_path):
    nowhere = f"sqlite:///{tmp_path}/no-such-folder/app.db"
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": nowhere})
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    assert response.get_json()["down"] == ["database"]
