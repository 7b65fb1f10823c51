"""What operating the app needs, in the real engine: request timeouts end a
stuck request and replace its worker while other requests are served."""

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
