"""The baked containers are safe to run in production: non-root, read-only,
graceful on stop, never half dead, strict at the edge, steady under load."""

import json
import re
import socket
import subprocess
import time

import pytest
from deployments import deployment, only, remove_images, secret_key
from engine import (
    docker,
    free_port,
    http_get,
    http_get_once,
    is_uwsgi,
    processes,
    wait_healthy,
    wait_serving,
)
from helpers import IMAGE, run, tool

pytestmark = pytest.mark.docker


def uwsgi_master_and_workers(container):
    uwsgi = {pid: ppid for pid, ppid, cmd in processes(container) if is_uwsgi(cmd)}
    [master] = [pid for pid, ppid in uwsgi.items() if ppid not in uwsgi]
    return master, sorted(pid for pid, ppid in uwsgi.items() if ppid == master)


def nginx_master(container):
    [master] = [pid for pid, _, cmd in processes(container) if cmd.startswith("nginx: master")]
    return master


def kill(container, pid):
    # Killing the container's main process ends the container, and with it
    # this very exec (137: SIGKILL) when the engine is quick about it.
    result = docker("exec", container, "sh", "-c", f"kill -KILL {pid}", check=False)
    assert result.returncode in (0, 137), result.stderr


def state(container):
    return json.loads(docker("inspect", "--format", "{{json .State}}", container).stdout)


def restart_count(container):
    return int(docker("inspect", "--format", "{{.RestartCount}}", container).stdout)


def send(port, head, body=b"", pause_after=None, during_pause=None):
    """One HTTP/1.1 request on a raw socket; returns the status code.

    With pause_after=n, the first n bytes of the body go out, then
    during_pause() runs, then the rest: a request in flight for a while.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n" + body[:pause_after])
        if pause_after is not None:
            during_pause()
            sock.sendall(body[pause_after:])
        status_line = sock.makefile("rb").readline()
    return int(status_line.split()[1])


def get_with_body(length):
    return f"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {length}"


def test_every_process_runs_as_non_root(served):
    for container in {served.proxy, served.app}:
        top = docker("top", container).stdout.splitlines()
        users = {line.split()[0] for line in top[1:]}
        assert users and users.isdisjoint({"root", "0"}), top


@pytest.mark.varies_with()  # the same useradd on every base
@only("single")
def test_the_uid_is_one_build_argument(variant, tmp_path):
    """The image's user is the build argument APP_UID (its group follows):
    built with another, every process runs as it, read-only, and it serves."""
    image = name = f"{variant.name}-uid"
    key = tmp_path / "secret_key"  # the bake's key, readable by the new uid
    key.write_bytes(secret_key(variant.project).read_bytes())
    key.chmod(0o644)
    port = free_port()
    try:
        docker("build", "--build-arg", "APP_UID=12345", "--tag", image, variant.project)
        docker("run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp",
               "--publish", f"127.0.0.1:{port}:{IMAGE['container_port']}",
               "--volume", f"{key}:{IMAGE['secret_key_file']}:ro", image)  # fmt: skip
        wait_serving(name, port)
        assert http_get(f"http://127.0.0.1:{port}/")[0] == 200
        top = docker("top", name, "-eo", "pid,uid,gid,args").stdout.splitlines()
        ids = {tuple(line.split()[1:3]) for line in top[1:]}
        assert len(top) > 4 and ids == {("12345", "12345")}, top  # tini, supervise, nginx, uWSGI
        wait_healthy(name)
    finally:
        docker("rm", "--force", name, check=False)
        remove_images([image])


def test_root_filesystem_is_read_only(served):
    for container in {served.proxy, served.app}:
        assert state(container)["Status"] == "running"
        config = json.loads(docker("inspect", "--format", "{{json .HostConfig}}", container).stdout)
        assert config["ReadonlyRootfs"] is True
        assert docker("exec", container, "touch", "/etc/x", check=False).returncode != 0
        docker("exec", container, "touch", "/tmp/x")


def test_containers_report_healthy(served):
    for container in {served.proxy, served.app}:
        wait_healthy(container)  # Docker's first check: HEALTHCHECK's interval after the start


@pytest.mark.varies_with("nginx")
def test_headers_are_hardened(served):
    """The security headers, and no version in Server."""
    _, headers, _ = http_get(f"{served.url}/")
    assert headers["Server"] == "nginx"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/.env", "/.git/config", "/app/.secret"])
@pytest.mark.varies_with("nginx")
def test_dot_files_are_not_served(served, path):
    assert http_get(f"{served.url}{path}")[0] == 404


@pytest.mark.varies_with()
def test_uwsgi_port_is_not_published(served):
    published = {docker("port", served.proxy).stdout.strip()}
    published |= {docker("port", served.app).stdout.strip()}
    assert IMAGE["app_port"] not in " ".join(published)
    assert all(f"{IMAGE['container_port']}/tcp" in line for line in published if line)


@pytest.mark.varies_with("nginx")
def test_body_over_the_limit_is_refused_with_413(served):
    # nginx answers from the headers alone: the default limit is 10m.
    assert send(served.port, get_with_body(11 * 1024 * 1024)) == 413
    assert send(served.port, get_with_body(1000), b"x" * 1000) == 200


@pytest.mark.varies_with("nginx")
def test_body_limit_is_configurable(variant):
    with deployment(variant, f"{variant.name}-limit", env={"NGINX_MAX_BODY_SIZE": "1k"}) as small:
        assert send(small.port, get_with_body(2048)) == 413
        assert send(small.port, get_with_body(512), b"x" * 512) == 200


def test_docker_stop_finishes_requests_within_3_s(fresh):
    """docker stop lets a request in flight finish, and takes well under 3 s."""
    stops = []

    def stop_proxy():
        started = time.monotonic()
        stops.append((subprocess.Popen(["docker", "stop", fresh.proxy]), started))
        time.sleep(1)  # nginx is shutting down now, with our request half sent

    assert send(fresh.port, get_with_body(1000), b"x" * 1000, 500, stop_proxy) == 200
    process, started = stops[0]
    assert process.wait(timeout=30) == 0
    assert time.monotonic() - started < 3
    assert state(fresh.proxy)["ExitCode"] == 0
    if fresh.app != fresh.proxy:
        started = time.monotonic()
        docker("stop", fresh.app)
        assert time.monotonic() - started < 3
        assert state(fresh.app)["ExitCode"] == 0


def test_dead_worker_is_replaced(served):
    """On the shared deployment: the master replaces the worker and nothing
    else changes (no restart), so the tests after it see the same app."""
    master, workers = uwsgi_master_and_workers(served.app)
    kill(served.app, workers[0])
    deadline = time.monotonic() + 15
    while True:
        now_master, now_workers = uwsgi_master_and_workers(served.app)
        if len(now_workers) == len(workers) and workers[0] not in now_workers:
            break
        assert time.monotonic() < deadline, "the uWSGI master did not respawn the worker"
        time.sleep(0.2)
    assert now_master == master
    assert http_get(f"{served.url}/")[0] == 200
    assert restart_count(served.app) == 0


def wait_restarted(container, port):
    """The container died, exited non-zero and was started again by its policy."""
    deadline = time.monotonic() + 30
    while restart_count(container) < 1:
        assert time.monotonic() < deadline, f"{container} was not restarted: {state(container)}"
        time.sleep(0.2)
    wait_serving(container, port)
    assert http_get_once(port)[0] == 200


@pytest.mark.varies_with()
def test_dead_nginx_restarts_the_container(fresh):
    kill(fresh.proxy, nginx_master(fresh.proxy))
    wait_restarted(fresh.proxy, fresh.port)


def test_dead_uwsgi_master_restarts_the_container(fresh):
    kill(fresh.app, uwsgi_master_and_workers(fresh.app)[0])
    wait_restarted(fresh.app, fresh.port)


def test_load_without_errors(served):
    """100 connections for 5 s (loopback only; thousands of requests): no
    socket error, no non-2xx. How fast is the benchmark's to say."""
    result = run(tool("wrk"), "-t2", "-c100", "-d5s", f"{served.url}/", timeout=60)
    print(result.stdout)
    requests = int(re.search(r"(\d+) requests in", result.stdout).group(1))
    assert requests > 1000
    assert "Socket errors" not in result.stdout
    assert "Non-2xx" not in result.stdout
