import json
import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_migrate import upgrade

from app import create_app
from app.database import db

KEY = "a-key-for-the-tests-only"


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path):
    # The container reads its key from a file (app/secret_key.py).
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("SECRET_KEY", KEY)
    # A database of each test's own, SQLite here as in CI (SQLAlchemy speaks both).
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/test.db")


@pytest.fixture
def app():
    app = create_app()
    app.config.update(TESTING=True)
    with app.app_context():
        upgrade()  # the migrations, as the container runs them
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def static_url(app, filename):
    with app.test_request_context():
        return url_for("static", filename=filename)


def test_index_is_the_sites_page(app, page):
    assert "<title>Flask App</title>" in page
    assert f'<link rel="stylesheet" href="{static_url(app, "style.css")}">' in page
    assert f'href="{static_url(app, "favicon.svg")}"' in page
    assert 'href="/health"' in page


def test_every_file_the_page_links_is_served(client, page):
    # In the container nginx serves these; here Flask's static route does.
    urls = set(re.findall(r'(?:href|src)="(/[^"]*)"', page))
    assert len(urls) >= 4
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_page_has_no_inline_styles_or_scripts(page):
    # The Content-Security-Policy (default-src 'self') makes browsers refuse them.
    assert not re.search(r"<script|<style|\sstyle=|\son\w+=", page, re.IGNORECASE)


def test_static_file(app, client):
    response = client.get(static_url(app, "style.css"))
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert response.get_data() == (Path(app.static_folder) / "style.css").read_bytes()


def test_hello(client):
    response = client.get("/api/hello")
    assert response.status_code == 200
    assert response.get_json() == {"message": "Hello from flask-app!"}


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_unknown_route_is_404(client):
    assert client.get("/no-such-page").status_code == 404


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_log_lines_carry_the_request_id(capsys, monkeypatch, log_format):
    monkeypatch.setenv("LOG_FORMAT", log_format)
    app = create_app()

    @app.get("/logs-a-line")
    def logs_a_line():
        app.logger.info("a line")
        return ""

    app.test_client().get("/logs-a-line", headers={"X-Request-ID": "id-123"})
    [line] = capsys.readouterr().err.splitlines()
    if log_format == "json":
        record = json.loads(line)
        assert (record["message"], record["request_id"]) == ("a line", "id-123")
    else:
        assert line.endswith("[id-123] a line")


def test_the_secret_key_file_comes_before_the_variable(monkeypatch, tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(f"{KEY}-from-a-file\n")
    monkeypatch.setenv("SECRET_KEY_FILE", str(key_file))
    assert create_app().secret_key == f"{KEY}-from-a-file"
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    assert create_app().secret_key == KEY


@pytest.mark.parametrize("problem", ["no key", "empty file"])
def test_no_secret_key_stops_the_app_with_one_line(monkeypatch, tmp_path, problem):
    monkeypatch.delenv("SECRET_KEY")
    if problem == "empty file":
        (tmp_path / "secret_key").write_text("")
        monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "secret_key"))
    with pytest.raises(SystemExit) as stopped:
        create_app()
    message = str(stopped.value.code)
    assert "SECRET_KEY_FILE" in message and "\n" not in message


def test_the_session_is_signed_with_the_key(app):
    @app.get("/remember")
    def remember():
        session["seen"] = True
        return ""

    client = app.test_client()
    client.get("/remember")
    signed = SecureCookieSessionInterface().get_signing_serializer(app)
    assert signed.loads(client.get_cookie("session").value) == {"seen": True}


def test_visits_are_recorded_and_counted(client):
    assert client.get("/api/visits").get_json() == {"visits": 0}
    response = client.post("/api/visits")
    assert (response.status_code, response.get_json()) == (201, {"visits": 1})
    assert client.get("/api/visits").get_json() == {"visits": 1}


def test_the_migrations_make_the_models_schema(app):
    # A model changed without `flask db migrate` shows here as a difference.
    with app.app_context(), db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
