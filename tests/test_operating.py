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
from deployments import SECRET_KEY_PATH, Running, run_install
from engine import docker, free_port, http_get, wait_checks_pass, wait_healthy, wait_serving
from helpers import CONTEXT, run
from traffic import Loop

UID = CONTEXT["_uid"]
KEY_FILE = CONTEXT["_secret_key_file"]
NO_VARIABLE = "and SECRET_KEY is not set (README.md)"

pytestmark = pytest.mark.docker

# Routes only the tests have, appended to a copy's wsgi.py.
TEST_ROUTES = """

import time  # noqa: E402

from flask import request, session  # noqa: E402


@app.get("/_test/whoami")
def whoami_for_the_test():
    app.logger.info("whoami")
    return {"remote_addr": request.remote_addr, "request_id": request.headers["X-Request-ID"]}


@app.get("/_test/sleep/<int:seconds>")
def sleep_for_the_test(seconds):
    time.sleep(seconds)
    return {"slept": seconds}


@app.get("/_test/visits")
def visits_for_the_test():
    session["visits"] = session.get("visits", 0) + 1
    return {"visits": session["visits"]}
"""


def install(variant, project, name, port):
    """Install (or re-install) a project as its users do: install.sh, or make
    up (docker compose) under a project name and with images of its own."""
    if not variant.split:
        result = run_install(project, "--name", name, "--image", name, "--port", str(port))
        assert result.returncode == 0, result.stdout + result.stderr
        wait_serving(name, port)
        return Running(port, name, name)
    compose_file = project / "compose.yaml"
    # Images of its own (again: the same names, for a re-install).
    images = rf"image: {re.escape(variant.name)}-(app|proxy)$", rf"image: {name}-\1"
    compose_file.write_text(re.sub(*images, compose_file.read_text(), flags=re.MULTILINE))
    env = {"COMPOSE_PROJECT_NAME": name, "HOST_PORT": str(port)}
    run("make", "up", cwd=project, env=env)
    proxy = run("docker", "compose", "ps", "--quiet", "proxy", cwd=project, env=env).stdout.strip()
    app = run("docker", "compose", "ps", "--quiet", "app", cwd=project, env=env).stdout.strip()
    wait_healthy(proxy)
    return Running(port, proxy, app)


@contextmanager
def started_copy(variant, tmp_path, name, settings):
    """A copy of the variant's project, without its secret key, with the test
    routes and .env settings, installed; removed afterwards (the key is kept)."""
    project = tmp_path / name
    shutil.copytree(variant.project, project)
    shutil.rmtree(project / SECRET_KEY_PATH.split("/")[0])
    with (project / "wsgi.py").open("a") as wsgi:
        wsgi.write(TEST_ROUTES)
    (project / ".env").write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    try:
        yield install(variant, project, name, free_port())
    finally:
        if not variant.split:
            run_install(project, "--uninstall", "--name", name, "--image", name)
            docker("volume", "rm", f"{name}-data", check=False)
        else:
            compose = ["docker", "compose", "--project-name", name]
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


@pytest.mark.varies_with("nginx")
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


def container_id(name):
    return docker("inspect", "--format", "{{.Id}}", name).stdout.strip()


@pytest.mark.varies_with()
def test_a_session_outlives_a_reinstall_and_the_key_stays(variant, tmp_path):
    """The first install makes the secret key (mode 0640, the container's
    group); a re-install of changed code keeps it, so a session cookie made
    before is still valid; the key is mounted, never in the container's
    settings or logs, and uninstalling leaves it."""
    name = f"{variant.name}-session"
    project = tmp_path / name
    key_file = project / SECRET_KEY_PATH
    with started_copy(variant, tmp_path, name, {}) as running:
        key = key_file.read_text()
        assert len(key) == 64
        assert (key_file.stat().st_mode & 0o777, key_file.stat().st_gid) == (0o640, int(UID))
        status, headers, body = http_get(f"{running.url}/_test/visits")
        assert (status, json.loads(body)) == (200, {"visits": 1})
        cookie = headers["Set-Cookie"].split(";")[0]

        first = container_id(running.app)
        with (project / "wsgi.py").open("a") as wsgi:
            wsgi.write("# a change: a new image, a new container\n")
        again = install(variant, project, name, running.port)
        assert container_id(again.app) != first
        status, _, body = http_get(f"{running.url}/_test/visits", headers={"Cookie": cookie})
        assert (status, json.loads(body)) == (200, {"visits": 2})
        assert key_file.read_text() == key
        log = docker("logs", again.app)
        assert key not in docker("inspect", again.app).stdout + log.stdout + log.stderr
    assert key_file.read_text() == key


@pytest.mark.varies_with()
def test_without_a_secret_key_the_container_stops_with_one_line(variant):
    image = variant.images[0]  # the app's (split) or the only one
    read_only = ["--read-only", "--tmpfs", "/tmp"]
    without = docker("run", "--rm", *read_only, image, check=False)
    assert without.returncode == 1
    [*_, line] = without.stderr.splitlines()
    assert line == f"no secret key: no file at SECRET_KEY_FILE ({KEY_FILE}), {NO_VARIABLE}"
    # SECRET_KEY, for platforms with variables only.
    name = f"{variant.name}-key-variable"
    try:
        docker("run", "--detach", "--name", name, *read_only, "--env", "SECRET_KEY=k", image)
        wait_checks_pass(name)
    finally:
        docker("rm", "--force", name, check=False)
    # A file there comes first, even an empty one.
    empty = variant.project.parent / f"{name}-empty"
    empty.write_text("")
    mount = ["--volume", f"{empty}:{KEY_FILE}:ro", "--env", "SECRET_KEY=k"]
    broken = docker("run", "--rm", *read_only, *mount, image, check=False)
    assert broken.returncode == 1
    assert broken.stderr.splitlines()[-1] == f"SECRET_KEY_FILE {KEY_FILE} is empty"


@pytest.mark.varies_with()
def test_a_reinstall_keeps_serving(variant, tmp_path):
    """Re-installing changed code under a request every 20 ms. One container:
    the swap leaves about a second without an answer (one port, one owner).
    Split (make up, scripts/deploy.sh): new replicas before old ones go, no
    request fails."""
    with started_copy(variant, tmp_path, f"{variant.name}-swap", {}) as running:
        project = tmp_path / f"{variant.name}-swap"
        with (project / "app" / "__init__.py").open("a") as init:
            init.write("# changed\n")
        with Loop("127.0.0.1", running.port, path="/api/hello") as loop:
            install(variant, project, f"{variant.name}-swap", running.port)
            time.sleep(1)
        print(f"{variant.deployment}: {loop}")
        if variant.split:
            assert loop.failed == 0, loop
            # A request sent to a removed replica's address waits nginx's
            # 2 s connect timeout before it goes to a new one.
            assert loop.longest_gap < 2.5, loop
        else:
            # About 0.8 s without a listener, plus one TCP SYN retransmission
            # (1 s) for a connection opened while Docker wires up the new one.
            assert loop.failed <= 40, loop
            assert loop.longest_gap < 2.0, loop
