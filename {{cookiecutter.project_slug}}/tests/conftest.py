"""What every test of the app gets: `app` (a test secret key and, with a
database, a database of each test's own with the migrations run), `client`
(requests to it), and an environment where create_app() itself works."""

import os
import tempfile

import pytest

# The metrics of the tests' processes are kept in files and added up, as the
# image's uWSGI workers' are (app/metrics.py): set before the app is imported.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="metrics-")

from app import create_app  # noqa: E402 (after the setting above)

KEY = "a-key-for-the-tests-only"


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path):
    # The container reads its key from a file (app/secret_key.py); tests that
    # call create_app() themselves get this one.
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("SECRET_KEY", KEY)
    # A database of each test's own (SQLite: SQLAlchemy speaks it as any other).
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/test.db")


@pytest.fixture
def app():
    app = create_app({"TESTING": True, "SECRET_KEY": KEY})
    if "migrate" in app.extensions:
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()  # the tables, made by the migrations as the container makes them
    return app


@pytest.fixture
def client(app):
    return app.test_client()
