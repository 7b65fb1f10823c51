"""What operating the app needs, in the real engine: request timeouts end a
stuck request and replace its worker while other requests are served; every
request has an id, in the response, nginx's access log and the app's lines;
the client's address comes from trusted load balancers only; logs as JSON."""

import json
import re
import shutil
import threading
import time
from contextlib import contextmanager

import pytest
from deployments import Running, run_install
from engine import docker, free_port, http_get, wait_healthy
from helpers import run

pytestmark = pytest.mark.docker

# Routes only the tests have, appended to a copy's wsgi.py.
TEST_ROUTES = """

import time  # noqa: E402

from flask import request  # noqa: E402


@app.get("/_test/whoami")
def whoami_for_the_test():
    app.logger.info("whoami")
    return {"remote_addr": request.remote_addr, "request_id": request.headers["X-Request-ID"]}


@app.get("/_test/sleep/<int:seconds>")
def sleep_for_the_test(seconds):
    time.sleep(seconds)
    return {"slept": seconds}
"""


@contextmanager
def started_copy(variant, tmp_path, name, settings):
    """A copy of the variant's project with the test routes and .env settings,
    started as its users start it (install.sh, or docker compose with images of
    its own); removed afterwards."""
    project = tmp_path / name
    shutil.copytree(variant.project, project)
    with (project / "wsgi.py").open("a") as wsgi:
        wsgi.write(TEST_ROUTES)
    (project / ".env").write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    port = free_port()
    if not variant.split:
        flags = ["--name", name, "--image", name]
        try:
            result = run_install(project, *flags, "--port", str(port))
            assert result.returncode == 0, result.stdout + result.stderr
            wait_healthy(name)
            yield Running(port, name, name)
        finally:
            run_install(project, "--uninstall", *flags)
            docker("volume", "rm", f"{name}-data", check=False)
    else:
        compose_file = project / "compose.yaml"
        images = f"image: {variant.name}-", f"image: {name}-"
        compose_file.write_text(compose_file.read_text().replace(*images))
        compose = ["docker", "compose", "--project-name", name]
        try:
            run(*compose, "up", "--detach", "--build", cwd=project, env={"HOST_PORT": str(port)})
            proxy = run(*compose, "ps", "--quiet", "proxy", cwd=project).stdout.strip()
            app = run(*compose, "ps", "--quiet", "app", cwd=project).stdout.strip()
            wait_healthy(proxy)
            yield Running(port, proxy, app)
        finally:
            run(*compose, "down", "--volumes", "--rmi", "local", cwd=project, check=False)
            docker("rmi", "--force", f"{name}-app", f"{name}-proxy", check=False)


def test_a_request_past_the_timeout_is_ended_and_its_worker_replaced(variant, tmp_path):
    settings = {"REQUEST_TIMEOUT": "2"}
    with started_copy(variant, tmp_path, f"{variant.name}-timeout", settings) as running:
        stuck = {}

        def ask_for_too_long():
            start = time.monotonic()
            stuck["status"] = http_get(f"{running.url}/_test/sleep/20")[0]
            stuck["seconds"] = time.monotonic() - start

        thread = threading.Thread(target=ask_for_too_long)
        thread.start()
        time.sleep(0.5)
        # Other workers serve meanwhile.
        assert http_get(f"{running.url}/health")[0] == 200
        thread.join(timeout=30)
        # uWSGI ends it after 2 s; nginx, waiting 7 s, answers at once.
        assert stuck["status"] in (502, 504) and stuck["seconds"] < 7, stuck
        app_log = docker("logs", running.app).stdout + docker("logs", running.app).stderr
        assert "HARAKIRI" in app_log
        proxy_log = docker("logs", running.proxy).stderr
        assert "upstream prematurely closed connection" in proxy_log
        assert "/_test/sleep/20" in proxy_log
        deadline = time.monotonic() + 10
        while "Respawned uWSGI worker" not in app_log and time.monotonic() < deadline:
            time.sleep(0.2)
            app_log = docker("logs", running.app).stdout + docker("logs", running.app).stderr
        assert "Respawned uWSGI worker" in app_log
        assert http_get(f"{running.url}/health")[0] == 200


FORGED = {"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "from-the-client"}
LOAD_BALANCERS = "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 127.0.0.1"


def whoami(running):
    status, headers, body = http_get(f"{running.url}/_test/whoami", headers=FORGED)
    assert status == 200
    return headers["X-Request-ID"], json.loads(body)


def logs(container, stream):
    """One stream of a container's log, once nginx's buffer is flushed (1 s)."""
    time.sleep(1.5)
    result = docker("logs", container)
    return (result.stdout if stream == "stdout" else result.stderr).splitlines()


def test_request_ids_and_json_logs_and_no_trust_by_default(variant, tmp_path):
    settings = {"LOG_FORMAT": "json"}
    with started_copy(variant, tmp_path, f"{variant.name}-ids", settings) as running:
        request_id, seen = whoami(running)
        # Nobody is trusted by default: the client's headers change nothing.
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)
        assert seen["request_id"] == request_id
        assert seen["remote_addr"] != FORGED["X-Forwarded-For"]
        for path in ["/", "/api/hello", "/health", "/static/style.css", "/no-such-page"] * 20:
            http_get(f"{running.url}{path}")

        access = [json.loads(line) for line in logs(running.proxy, "stdout")]
        assert len(access) >= 101
        [line] = [line for line in access if line["request_id"] == request_id]
        assert (line["path"], line["status"], line["client"]) == (
            "/_test/whoami",
            200,
            seen["remote_addr"],
        )
        assert {"time", "method", "bytes", "duration", "upstream_time", "user_agent"} <= set(line)
        app_lines = [json.loads(line) for line in logs(running.app, "stderr") if line[:1] == "{"]
        assert {"message": "whoami", "request_id": request_id}.items() <= app_lines[-1].items()


def test_a_trusted_load_balancer_gives_the_client_and_request_id(variant, tmp_path):
    settings = {"NGINX_REAL_IP_FROM": LOAD_BALANCERS}
    with started_copy(variant, tmp_path, f"{variant.name}-trusted", settings) as running:
        request_id, seen = whoami(running)
        assert request_id == seen["request_id"] == FORGED["X-Request-ID"]
        assert seen["remote_addr"] == FORGED["X-Forwarded-For"]
        [line] = [line for line in logs(running.proxy, "stdout") if request_id in line]
        assert line.startswith(f"{FORGED['X-Forwarded-For']} - ")
        [app_line] = [line for line in logs(running.app, "stderr") if "whoami" in line]
        assert app_line.endswith(f"[{request_id}] whoami")
