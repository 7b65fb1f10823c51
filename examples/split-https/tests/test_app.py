import json
import re
from pathlib import Path

import pytest
from flask import url_for

from app import create_app


@pytest.fixture
def app():
    app = create_app()
    app.config.update(TESTING=True)
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
