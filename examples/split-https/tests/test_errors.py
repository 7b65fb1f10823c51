"""Error reports (app/errors.py) reach the DSN: here a server of the test's
own, which receives the envelopes as Sentry does."""

import gzip
import json
import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sentry_sdk
from flask import request

from app import create_app


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.envelopes.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def envelopes():
    """The envelopes sent to SENTRY_DSN while the test runs."""
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    server.envelopes = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["SENTRY_DSN"] = f"http://public@127.0.0.1:{server.server_port}/1"
    try:
        yield server.envelopes
    finally:
        del os.environ["SENTRY_DSN"]
        sentry_sdk.init()  # no DSN: reports off again
        server.shutdown()


def events(envelopes):
    """The events in the envelopes: after the envelope's header line, each
    item is a header line and its payload (of the header's length, if given)."""
    found = []
    for envelope in envelopes:
        rest = envelope.split(b"\n", 1)[1]
        while rest.strip():
            header, rest = rest.split(b"\n", 1)
            item = json.loads(header)
            length = item.get("length", rest.find(b"\n") if b"\n" in rest else len(rest))
            payload, rest = rest[:length], rest[length + 1 :]
            if item["type"] == "event":
                found.append(json.loads(payload))
    return found


def test_an_unhandled_exception_is_reported_without_the_visitors_data(envelopes):
    app = create_app({"SECRET_KEY": "a-key-for-the-tests-only"})

    @app.post("/fails")
    def fails():
        password = request.form["password"]  # a local variable, never sent
        raise RuntimeError(f"it fails ({len(password)})")

    # The visitor's: random, so that no source line sent as context holds them.
    cookie, token, password, secret = (secrets.token_hex(8) for _ in range(4))
    client = app.test_client()
    client.set_cookie("session", cookie)
    response = client.post(
        f"/fails?token={token}",
        data={"password": password},
        headers={"X-Request-ID": "r-1", "Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)
    [event] = events(envelopes)
    assert event["exception"]["values"][-1]["value"] == "it fails (16)"
    assert event["tags"]["request_id"] == "r-1"
    assert event["request"] == {"method": "POST", "url": "http://localhost/fails"}
    assert "ip_address" not in event.get("user", {})
    sent = b"".join(envelopes)
    for private in cookie, token, password, secret:
        assert private.encode() not in sent
