"""Static files in every variant: nginx answers /static/ from files baked into its
image (the proxy image of the split deployment), precompressed and cacheable,
without uWSGI; the app's own pages are compressed too. The static max-age and
the Content-Security-Policy are settings."""

import gzip
import re
import socket
import time

import pytest
from deployments import deployment
from engine import docker, http_get_once, signal_uwsgi
from helpers import IMAGE, IMAGE_SETTINGS

pytestmark = pytest.mark.docker

STATIC = IMAGE["static_url_path"]
ROOT = IMAGE["static_root"]
NGINX = IMAGE_SETTINGS["nginx"]
GZIP = {"Accept-Encoding": "gzip"}
CONTENT_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}


UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def nginx_seconds(value):
    """A time in nginx's syntax (90, 30m, 1h, 1d12h) in seconds."""
    parts = re.findall(r"(\d+)([smhdw]?)", value)
    assert "".join(map("".join, parts)) == value, f"not an nginx time: {value}"
    return sum(int(number) * UNITS[unit] for number, unit in parts)


def static_files(variant):
    """{name under the static path: bytes} of the baked project's app/static."""
    folder = variant.project / "app" / "static"
    files = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert set(files) >= {"style.css", "favicon.svg"}
    return files


def get(running, path, headers=None, timeout=10):
    return http_get_once(running.port, path, headers, timeout)


def why(running):
    """The end of both logs, to say why an answer was not the one expected."""
    tails = [
        docker("logs", "--tail", "15", name, check=False) for name in {running.proxy, running.app}
    ]
    return "\n".join(tail.stdout + tail.stderr for tail in tails)


def test_every_static_file_is_in_the_nginx_image_with_a_gzip_copy(variant, served):
    listing = docker("exec", served.proxy, "find", ROOT, "-type", "f").stdout.split()
    names = {path.removeprefix(f"{ROOT}/") for path in listing}
    originals = static_files(variant)
    # The baked files are all text (CSS, SVG, HTML): each has its .gz, nothing else is there.
    assert names == set(originals) | {f"{name}.gz" for name in originals}


@pytest.mark.varies_with("nginx")
def test_static_files_come_from_nginx_with_cache_headers(variant, served):
    max_age = nginx_seconds(NGINX["NGINX_STATIC_MAX_AGE"])
    for name, content in static_files(variant).items():
        status, headers, body = get(served, f"{STATIC}/{name}")
        assert status == 200, name
        assert body == content, name
        assert headers["Server"] == "nginx"
        assert headers.get_content_type() == CONTENT_TYPES[name[name.rindex(".") :]]
        assert "Content-Encoding" not in headers
        assert headers["Cache-Control"] == f"max-age={max_age}"
        assert headers["ETag"] and headers["Last-Modified"]
        assert headers["Content-Security-Policy"] == NGINX["NGINX_CSP"]


@pytest.mark.varies_with("nginx")
def test_static_files_are_sent_precompressed(variant, served):
    for name, content in static_files(variant).items():
        status, headers, body = get(served, f"{STATIC}/{name}", GZIP)
        assert status == 200, name
        assert headers["Content-Encoding"] == "gzip"
        assert headers["Vary"] == "Accept-Encoding"
        assert gzip.decompress(body) == content
        # The .gz file made at build time, byte for byte: not compressed per
        # request (that would be chunked, without a Content-Length).
        built = docker("exec", served.proxy, "cat", f"{ROOT}/{name}.gz", text=False).stdout
        assert body == built
        assert int(headers["Content-Length"]) == len(built)


@pytest.mark.parametrize("encoding", [{}, GZIP], ids=["identity", "gzip"])
@pytest.mark.varies_with("nginx")
def test_revalidation_answers_304(served, encoding):
    path = f"{STATIC}/style.css"
    status, headers, _ = get(served, path, encoding)
    assert status == 200
    for condition in (
        {"If-None-Match": headers["ETag"]},
        {"If-Modified-Since": headers["Last-Modified"]},
    ):
        status, again, body = get(served, path, {**encoding, **condition})
        assert (status, body) == (304, b""), condition
        assert again["ETag"] == headers["ETag"]
        assert again["Cache-Control"] == headers["Cache-Control"]
    # A changed file (another ETag) is sent again.
    status, _, body = get(served, path, {**encoding, "If-None-Match": '"0-0"'})
    assert status == 200 and body


@pytest.mark.varies_with("nginx")
def test_each_encoding_has_its_own_etag(served):
    plain = get(served, f"{STATIC}/style.css")[1]["ETag"]
    packed = get(served, f"{STATIC}/style.css", GZIP)[1]["ETag"]
    assert plain != packed


@pytest.mark.varies_with("nginx")
def test_a_missing_static_file_is_nginxs_404(served):
    status, headers, body = get(served, f"{STATIC}/no-such-file.css")
    assert (status, headers["Server"]) == (404, "nginx")
    assert b"<center>nginx</center>" in body
    # Flask's 404 looks different: the check above tells them apart.
    status, _, flask = get(served, "/no-such-page")
    assert status == 404, why(served)
    assert b"<center>nginx</center>" not in flask


@pytest.mark.varies_with("nginx")
def test_static_files_are_served_while_uwsgi_is_frozen_or_gone(fresh):
    """nginx never passes /static/ to uWSGI: with every uWSGI process stopped
    (SIGSTOP), static files still come back at once, while a page waits. With
    the app's container stopped (split), a page is nginx's own 502 or 504, in
    the site's style (app/static/unavailable.html)."""
    assert get(fresh, "/api/hello")[0] == 200
    signal_uwsgi(fresh.app, "STOP")
    try:
        with pytest.raises(socket.timeout):
            get(fresh, "/api/hello", timeout=3)
        status, _, body = get(fresh, f"{STATIC}/style.css", timeout=3)
        assert status == 200 and body
    finally:
        signal_uwsgi(fresh.app, "CONT")
    assert get(fresh, "/api/hello")[0] == 200
    if fresh.app != fresh.proxy:
        docker("stop", fresh.app)
        # 502, or 504 while nginx still holds the stopped app's address (its
        # DNS cache: 10 s) and gives up connecting to it after 2 s.
        status, headers, body = get(fresh, "/api/hello", timeout=10)
        assert status in (502, 504) and headers["Content-Type"] == "text/html", body
        assert b"<h1>Back in a moment</h1>" in body
        assert get(fresh, f"{STATIC}/style.css")[0] == 200


@pytest.mark.varies_with("nginx")
def test_app_pages_are_compressed_small_answers_are_not(served):
    # The app first: in the split deployment nginx may still hold an app
    # address from before an earlier test's change (its DNS cache: 10 s).
    deadline = time.monotonic() + 30
    while get(served, "/health")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    status, headers, body = get(served, "/", GZIP)
    assert status == 200, why(served)
    assert headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    assert gzip.decompress(body).startswith(b"<!doctype html>")
    # Only for clients that accept it, and not for a few bytes.
    assert "Content-Encoding" not in get(served, "/")[1]
    status, headers, _ = get(served, "/health", GZIP)
    assert status == 200 and "Content-Encoding" not in headers


@pytest.mark.varies_with("nginx")
def test_every_response_has_the_default_csp(served):
    for path in ("/", f"{STATIC}/style.css", "/api/hello"):
        assert get(served, path)[1]["Content-Security-Policy"] == NGINX["NGINX_CSP"], path


@pytest.mark.varies_with("nginx")
def test_static_headers_are_settings(variant):
    """Set in .env (compose) or with -e: quotes, spaces and semicolons arrive whole."""
    csp = "default-src 'self'; script-src 'self' https://cdn.example.org; frame-ancestors 'none'"
    settings = {"NGINX_STATIC_MAX_AGE": "7d", "NGINX_CSP": csp}
    with deployment(variant, f"{variant.name}-static-settings", env=settings) as running:
        _, headers, _ = get(running, f"{STATIC}/style.css")
        assert headers["Cache-Control"] == f"max-age={7 * 86400}"
        assert headers["Content-Security-Policy"] == csp
        assert get(running, "/")[1]["Content-Security-Policy"] == csp
