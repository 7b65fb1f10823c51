"""Headless Chromium (Debian's package), driven over the DevTools protocol.

Chromium runs as the tests do (root in CI, hence --no-sandbox), in a profile
of its own that is removed afterwards, and talks to nothing but the pages it
is sent to: no updates, sync or background requests.
"""

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager

import websocket
from engine import free_port, http_get
from helpers import skip_or_fail

# Debian's package first; GitHub's Ubuntu runners come with Google Chrome.
EXECUTABLES = ["chromium", "chromium-browser", "google-chrome"]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class DevToolsError(Exception):
    pass


def executable():
    """The browser to run: the first of EXECUTABLES on PATH."""
    found = next(filter(None, map(shutil.which, EXECUTABLES)), None)
    if found is None:
        skip_or_fail("chromium is not installed (scripts/test.sh installs it)")
    return found


class Chromium:
    """A running headless Chromium: open pages with page()."""

    def __init__(self, executable):
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-")
        # A file, not a pipe: a pipe nobody reads would fill up and stall Chromium.
        self.log = tempfile.TemporaryFile()
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                executable,
                *FLAGS,
                f"--user-data-dir={self.profile.name}",
                f"--remote-debugging-port={self.port}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            # Its own process group: closing it ends its helper processes too.
            start_new_session=True,
        )
        try:
            status, _, body = http_get(f"http://127.0.0.1:{self.port}/json/version", timeout=30)
        except OSError as error:
            self.close()
            self.log.seek(0)
            output = self.log.read().decode(errors="replace")
            raise DevToolsError(f"Chromium did not start:\n{output}") from error
        assert status == 200, body
        self.version = json.loads(body)["Browser"]

    @contextmanager
    def page(self, width=1200, height=900):
        """A new tab of the given viewport size, closed afterwards."""
        opener = f"http://127.0.0.1:{self.port}/json/new?about:blank"
        target = json.loads(http_request(opener, method="PUT"))
        page = Page(target["webSocketDebuggerUrl"])
        try:
            page.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            yield page
        finally:
            page.close()
            http_request(f"http://127.0.0.1:{self.port}/json/close/{target['id']}")

    def close(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.profile.cleanup()
        self.log.close()


def http_request(url, method="GET"):
    """DevTools' HTTP endpoints (new and close tabs), never through a proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(url, method=method), timeout=10) as response:
        return response.read()


class Page:
    """One tab's DevTools session: call() commands, read the events it sent."""

    def __init__(self, url):
        # No Origin header: Chromium refuses DevTools connections from web origins.
        self.socket = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise DevToolsError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, event, timeout=30):
        """The first event of that name since the last navigate(), waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.events:
                if message.get("method") == event:
                    return message["params"]
            self.socket.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                self.events.append(json.loads(self.socket.recv()))
            except websocket.WebSocketTimeoutException:
                raise DevToolsError(f"no {event} within {timeout} s") from None

    def navigate(self, url):
        """Load url and wait until it has loaded (its stylesheets and images too)."""
        self.events.clear()
        result = self.call("Page.navigate", url=url)
        if result.get("errorText"):
            raise DevToolsError(f"{url}: {result['errorText']}")
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (JSON-serializable);
        a promise is awaited."""
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def named(self, event):
        return [message["params"] for message in self.events if message.get("method") == event]

    def screenshot(self, path):
        """The whole page as a PNG file, beyond the viewport if it is longer."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        data = self.call(
            "Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True
        )["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self):
        self.socket.close()
