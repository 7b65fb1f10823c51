"""The app's contract, whatever its pages say: every page renders, links
only files that are served, and keeps to the Content-Security-Policy; the
health and readiness checks answer; logs and the secret key work as the container needs."""

import json
import os
import re
from pathlib import Path

import pytest
from flask import session, url_for
from flask.sessions import SecureCookieSessionInterface

from app import create_app

# What the Content-Security-Policy (default-src 'self') makes browsers refuse:
# <script> elements with code in them, <style> elements, style attributes,
# inline event handlers (onclick=...) and javascript: links. Scripts and
# styles belong in files in app/static, linked.
INLINE = re.compile(
    r"<script\b(?![^>]*\bsrc=)|<style\b|<[^>]+\s(?:style|on[a-z]+)\s*=|=\s*[\"']?javascript:",
    re.IGNORECASE,
)


def get_routes(app):
    """Every route a browser can GET as it is (none with a <variable> part)."""
    rules = app.url_map.iter_rules()
    return sorted(rule.rule for rule in rules if "GET" in rule.methods and not rule.arguments)


def test_health(client):
    response = client.get("/health")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_ready_while_each_service_answers(client):
    response = client.get("/ready")
    assert (response.status_code, response.get_json()) == (200, {"status": "ready"})


def test_not_ready_names_the_service_down_and_health_stays(client, monkeypatch):
    from app import ready

    def down():
        raise ConnectionError("no answer")

    monkeypatch.setitem(ready.CHECKS, "cache", down)
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "down": ["cache"]}
    assert client.get("/health").status_code == 200


def test_every_template_keeps_to_the_csp(app):
    suffixes = {".html", ".htm", ".jinja", ".j2"}
    templates = [path for path in Path(app.root_path).rglob("*") if path.suffix in suffixes]
    assert Path(app.root_path, app.template_folder, "base.html") in templates
    for template in templates:
        assert not INLINE.search(template.read_text()), template


def test_every_page_renders_and_links_only_served_files(app, client):
    routes = get_routes(app)
    assert {"/", "/health"} <= set(routes)
    for route in routes:
        response = client.get(route)
        assert response.status_code < 400, route  # a redirect (to a login) is fine
        if response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        assert re.search(r"<title>[^<]+</title>", page), route
        assert not INLINE.search(page), route
        # In the container nginx serves the static files; here Flask does.
        for url in set(re.findall(r'(?:href|src)="(/[^"]*)"', page)):
            assert client.get(url).status_code == 200, (route, url)


def test_pages_use_the_stylesheet_and_icon(app, client):
    page = client.get("/").get_data(as_text=True)
    with app.test_request_context():
        css = url_for("static", filename="style.css")
        icon = url_for("static", filename="favicon.svg")
    assert f'<link rel="stylesheet" href="{css}">' in page
    assert f'href="{icon}"' in page


def test_static_file(app, client):
    with app.test_request_context():
        response = client.get(url_for("static", filename="style.css"))
    assert (response.status_code, response.mimetype) == (200, "text/css")
    assert response.get_data() == (Path(app.static_folder) / "style.css").read_bytes()


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
    key = os.environ["SECRET_KEY"]  # the tests' (tests/conftest.py)
    key_file = tmp_path / "secret_key"
    key_file.write_text(f"{key}-from-a-file\n")
    monkeypatch.setenv("SECRET_KEY_FILE", str(key_file))
    assert create_app().secret_key == f"{key}-from-a-file"
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    assert create_app().secret_key == key


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
