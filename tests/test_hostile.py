"""Hostile traffic: thousands of slow and idle clients, malformed and smuggled
requests, per-client limits; and least privilege at run time."""

import json
import socket
import time

import pytest
from deployments import deployment
from engine import docker, signal_uwsgi
from helpers import IMAGE, LOG_OPTIONS
from traffic import fresh_requests, held_connections, still_open

pytestmark = pytest.mark.docker

CONTAINER_PORT = int(IMAGE["container_port"])
SLOW, IDLE = 5000, 5000
# nginx's client_header_timeout (nginx.conf.template).
HEADER_TIMEOUT = 10


def address(container):
    """The container's own address: what a client outside reaches through
    Docker's port forwarding (loopback would add docker-proxy, a userland copy)."""
    inspect = docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", container)
    networks = json.loads(inspect.stdout)
    return next(network["IPAddress"] for network in networks.values())


@pytest.mark.varies_with("nginx")
def test_thousands_of_held_connections_leave_room_for_fresh_ones(served):
    """5,000 connections that sent half a request header and 5,000 idle
    keep-alive ones: fresh requests are still answered, 19 of 20 within 2 s.
    The slow ones are cut off after nginx's header timeout."""
    host = address(served.proxy)
    favicon = f"{IMAGE['static_url_path']}/favicon.svg"
    with held_connections(host, CONTAINER_PORT, slow=SLOW, idle=IDLE, idle_path=favicon) as held:
        sent = time.monotonic()
        counts = len(held.slow), len(held.idle)
        assert counts[0] >= SLOW * 0.99 and counts[1] >= IDLE * 0.99, counts
        times = fresh_requests(host, CONTAINER_PORT, count=20, timeout=2.0)
        answered = [t for t in times if t is not None]
        slowest = max(answered, default=0)
        print(f"held {counts}; fresh: {len(answered)}/20 in 2 s, slowest {slowest:.3f} s")
        assert len(answered) >= 19, times
        # They were held while the fresh requests ran, not dropped already.
        assert still_open(held.slow) == len(held.slow)
        time.sleep(max(0.0, sent + HEADER_TIMEOUT + 2 - time.monotonic()))
        assert still_open(held.slow) == 0
    assert None not in fresh_requests(host, CONTAINER_PORT, count=5)


def raw(port, request, timeout=5):
    """Send bytes on a new connection; the status of the first answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        status_line = sock.makefile("rb").readline()
    return int(status_line.split()[1])


# Each gets a 400-range answer from nginx itself.
MALFORMED = {
    "content-length and transfer-encoding": b"POST /api/hello HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
    "two content-lengths": b"POST /api/hello HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 6\r\nContent-Length: 5\r\n\r\nhello!",
    "invalid chunk size": b"POST /api/hello HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "oversized header": b"GET /api/hello HTTP/1.1\r\nHost: x\r\nX-Big: "
    + b"a" * 70_000
    + b"\r\n\r\n",
    "oversized request line": b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "invalid method": b"G@T /api/hello HTTP/1.1\r\nHost: x\r\n\r\n",
    "NUL in the path": b"GET /api/\x00hello HTTP/1.1\r\nHost: x\r\n\r\n",
    "no Host in HTTP/1.1": b"GET /api/hello HTTP/1.1\r\n\r\n",
}


@pytest.mark.varies_with("nginx")
def test_hostile_requests_never_reach_the_app(served):
    """With every uWSGI process stopped (SIGSTOP), each request still gets
    its 4xx at once: nginx answered it alone."""
    signal_uwsgi(served.app, "STOP")
    try:
        statuses = {name: raw(served.port, request) for name, request in MALFORMED.items()}
    finally:
        signal_uwsgi(served.app, "CONT")
    assert all(400 <= status < 500 for status in statuses.values()), statuses
    assert fresh_requests("127.0.0.1", served.port, count=1) != [None]


@pytest.mark.varies_with("nginx")
def test_per_client_limits_answer_429(variant):
    settings = {"NGINX_LIMIT_REQ": "5r/s burst=5", "NGINX_LIMIT_CONN": "1"}
    with deployment(variant, f"{variant.name}-limits", env=settings) as running:
        hello = b"GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n"
        statuses = [raw(running.port, hello) for _ in range(20)]
        assert statuses.count(200) >= 5 and statuses.count(429) >= 10, statuses
        # Static files are nginx's own work: no rate limit there.
        static = f"GET {IMAGE['static_url_path']}/style.css HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        assert {raw(running.port, static) for _ in range(20)} == {200}
        # One request in progress (its body half sent): a second one at once is
        # refused. First the rate limit's burst fills again (5r/s: 1 s).
        time.sleep(2)
        with socket.create_connection(("127.0.0.1", running.port), timeout=5) as first:
            first.sendall(b"POST /api/hello HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf")
            time.sleep(0.5)
            assert raw(running.port, static) == 429


@pytest.mark.parametrize(
    ("setting", "value"),
    [("NGINX_LIMIT_REQ", "lots"), ("NGINX_LIMIT_CONN", "ten"), ("NGINX_WORKER_CONNECTIONS", "")],
)
@pytest.mark.varies_with()
def test_a_bad_limit_stops_the_start_with_one_line(variant, setting, value):
    # The image that runs nginx: the proxy's when split. SECRET_KEY: the one
    # container checks its key first.
    settings = ["--env", f"{setting}={value}", "--env", "SECRET_KEY=test"]
    result = docker("run", "--rm", *settings, variant.images[-1], "true", check=False)
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"20-render-config.sh: {setting} '{value}'"), result.stderr


@pytest.mark.varies_with()
def test_containers_run_with_least_privilege(served):
    """No capabilities, no-new-privileges, a pids limit, no memory or CPU limit
    unless set, the log capped; and no setuid or setgid program in the image."""
    for container in {served.proxy, served.app}:
        host = json.loads(docker("inspect", "--format", "{{json .HostConfig}}", container).stdout)
        assert host["LogConfig"] == {"Type": "json-file", "Config": LOG_OPTIONS}
        assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
        assert host["SecurityOpt"] in (["no-new-privileges"], ["no-new-privileges:true"])
        assert host["PidsLimit"] == int(IMAGE["pids_limit"])
        assert host["Memory"] == 0 and host["NanoCpus"] == 0
        assert host["ReadonlyRootfs"]
        setuid = ["find", "/", "-xdev", "-perm", "/6000", "-type", "f"]
        assert docker("exec", "--user", "0", container, *setuid, check=False).stdout == ""
        status = docker("exec", container, "cat", "/proc/1/status").stdout
        assert "CapEff:\t0000000000000000" in status and "NoNewPrivs:\t1" in status


@pytest.mark.varies_with()
def test_resource_limits_apply_when_set(variant):
    settings = {"MEMORY_LIMIT": "300m", "CPU_LIMIT": "1", "LOG_MAX_SIZE": "1m"}
    with deployment(variant, f"{variant.name}-resources", env=settings) as running:
        host = json.loads(docker("inspect", "--format", "{{json .HostConfig}}", running.app).stdout)
        assert (host["Memory"], host["NanoCpus"]) == (300 * 2**20, 10**9)
        assert host["LogConfig"]["Config"] == {**LOG_OPTIONS, "max-size": "1m"}
        # The CPU limit sets uWSGI's worker count: two per CPU.
        log = docker("logs", running.app)
        assert "2 uWSGI workers for 1 CPUs" in log.stdout + log.stderr
