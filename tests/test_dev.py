"""The development loop (make dev): the working tree served through nginx and
uWSGI, edits to code and static files visible without a rebuild, nothing
written into the tree, nothing left running after Ctrl-C and nothing at all
after make dev-down. How fast an edit shows is measured by the benchmark."""

import os
import shutil
import signal
import subprocess
import time

import pytest
from engine import docker, free_port, http_get
from helpers import IMAGE, run

pytestmark = pytest.mark.docker

STATIC = IMAGE["static_url_path"]


def git(*args, cwd):
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    return run("git", *identity, *args, cwd=cwd, env=env).stdout


def wait_for_text(url, text, timeout):
    """Seconds until GET url answers 200 with text in its body."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        status, _, body = http_get(url, timeout=timeout)
        if status == 200 and text in body.decode():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{url} did not show {text!r} within {timeout} s")


def running_containers(project_name, service=None):
    filters = [f"label=com.docker.compose.project={project_name}"]
    if service:
        filters.append(f"label=com.docker.compose.service={service}")
    return docker("ps", "--quiet", *(f"--filter={f}" for f in filters)).stdout.split()


@pytest.mark.varies_with()
def test_make_dev_serves_edits_through_nginx(variant, tmp_path):
    project = tmp_path / variant.name
    shutil.copytree(variant.project, project, ignore=shutil.ignore_patterns("secrets"))
    git("init", "--quiet", cwd=project)
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--message", "baked", cwd=project)
    name, port = f"{variant.name}-dev", free_port()
    env = {**os.environ, "DEV_PORT": str(port), "COMPOSE_PROJECT_NAME": name}
    log = (tmp_path / "make-dev.log").open("w")
    # Its own session: Ctrl-C goes to make and docker compose, as at a terminal.
    dev = subprocess.Popen(
        ["make", "dev"], cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    site = f"http://127.0.0.1:{port}"
    try:
        wait_for_text(f"{site}/api/hello", "Hello from", timeout=300)
        status, headers, _ = http_get(f"{site}/")
        assert (status, headers["Server"]) == (200, "nginx")

        example = project / "app" / "examples.py"
        example.write_text(example.read_text().replace("Hello from", "Edited in"))
        wait_for_text(f"{site}/api/hello", "Edited in", timeout=10)

        # nginx serves the static files from the tree, and browsers ask again.
        stylesheet = project / "app" / "static" / "style.css"
        stylesheet.write_text(stylesheet.read_text() + "/* edited */\n")
        wait_for_text(f"{site}{STATIC}/style.css", "/* edited */", timeout=10)
        assert http_get(f"{site}{STATIC}/style.css")[1]["Cache-Control"] == "max-age=0"

        [app] = running_containers(name, "app" if variant.split else "web")
        debug = docker("exec", app, "printenv", "FLASK_DEBUG").stdout.strip()
        assert debug == "1", "make dev runs Flask in debug mode"
    finally:
        os.killpg(dev.pid, signal.SIGINT)
        dev.wait(timeout=120)
        left = running_containers(name)
        removed = run("make", "dev-down", cwd=project, env=env, check=False)
        log.close()
    assert left == [], "Ctrl-C on make dev leaves nothing running"
    assert removed.returncode == 0, removed.stdout + removed.stderr
    label = f"label=com.docker.compose.project={name}"
    leftovers = docker("ps", "--all", "--quiet", "--filter", label).stdout.split()
    leftovers += docker("network", "ls", "--quiet", "--filter", label).stdout.split()
    leftovers += docker("volume", "ls", "--quiet", "--filter", label).stdout.split()
    leftovers += docker("images", "--quiet", "--filter", f"reference={name}-*").stdout.split()
    assert leftovers == [], "make dev-down removes containers, network, volumes and images"
    printed = (tmp_path / "make-dev.log").read_text()
    assert f"make dev: serving at http://localhost:{port}/" in printed
    # uWSGI watches each Python file it reloads on, and logs no failed watch
    # (a glob that matched nothing once did: "unable to register monitor").
    assert 'registered monitor for "/srv/app/examples.py"' in printed
    assert "unable to register" not in printed
    # Mounted read-only: the only change in the tree is the edit itself.
    assert git("status", "--porcelain", "--untracked-files=all", cwd=project).split() == [
        "M",
        "app/examples.py",
        "M",
        "app/static/style.css",
    ]
