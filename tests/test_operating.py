"""What operating the app needs, in the real engine: request timeouts end a
stuck request and replace its worker while other requests are served; every
request has an id, in the response, nginx's access log and the app's lines;
the client's address comes from trusted load balancers only; logs as JSON."""

import json
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from deployments import SECRET_KEY_PATH, Running, run_install
from engine import (
    docker,
    free_port,
    http_get,
    image_id,
    wait_checks_pass,
    wait_healthy,
    wait_serving,
)
from helpers import IMAGE, run, tool
from traffic import Loop

KEY_FILE = IMAGE["secret_key_file"]

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
    # Images of its own (again: the same names, for a re-install); the app's
    # is named once, with a YAML anchor that its other services share.
    images = rf"image: (&\S+ )?{re.escape(variant.name)}-(app|proxy)$", rf"image: \g<1>{name}-\2"
    text, renamed = re.subn(*images, compose_file.read_text(), flags=re.MULTILINE)
    assert renamed == 2 or f"{name}-app" in text, "compose.yaml names its images otherwise"
    compose_file.write_text(text)
    env = {"COMPOSE_PROJECT_NAME": name, "HOST_PORT": str(port)}
    run("make", "up", cwd=project, env=env)
    proxy = run("docker", "compose", "ps", "--quiet", "proxy", cwd=project, env=env).stdout.strip()
    app = run("docker", "compose", "ps", "--quiet", "app", cwd=project, env=env).stdout.strip()
    wait_healthy(proxy)
    return Running(port, proxy, app)


@contextmanager
def started_copy(variant, tmp_path, name, settings):
    """A copy of the variant's project, as baked (no secret key given), with the
    test routes and .env settings, installed; removed afterwards."""
    project = tmp_path / name
    shutil.copytree(variant.project, project, ignore=shutil.ignore_patterns("secrets"))
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
            tags = ("", ":previous")
            images = [f"{name}-{part}{tag}" for part in ("app", "proxy") for tag in tags]
            docker("rmi", "--force", *images, check=False)


FORGED = {"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "from-the-client"}
LOAD_BALANCERS = "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 127.0.0.1"
# Where a request from this machine to a published port comes from: its
# Docker network's gateway (docker-proxy), in one of these.
DOCKER_GATEWAYS = "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16"
PROMETHEUS = "198.51.100.7"


def whoami(running):
    status, headers, body = http_get(f"{running.url}/_test/whoami", headers=FORGED)
    assert status == 200
    return headers["X-Request-ID"], json.loads(body)


def logs(container, stream):
    """One stream of a container's log, once nginx's buffer is flushed (1 s)."""
    time.sleep(1.5)
    result = docker("logs", container)
    return (result.stdout if stream == "stdout" else result.stderr).splitlines()


@pytest.fixture(scope="class")
def shared_copy(variant, tmp_path_factory):
    """One copy of the variant for the tests of TestOneCopy, started once (a
    split copy takes about 25 s to start and remove), with JSON logs and a 2 s
    request timeout. Neither setting touches what the other test looks at:
    nginx's and uWSGI's error lines (the closed upstream, HARAKIRI, the
    respawn) stay text; the JSON test's requests end well within 2 s, it finds
    its request's lines by id and counts the access log from its own start.
    Prometheus, on this machine, may read /metrics."""
    settings = {"LOG_FORMAT": "json", "REQUEST_TIMEOUT": "2", "NGINX_METRICS_FROM": DOCKER_GATEWAYS}
    tmp_path = tmp_path_factory.mktemp("operating")
    with started_copy(variant, tmp_path, f"{variant.name}-shared", settings) as running:
        yield running


@pytest.mark.varies_with("nginx")  # uWSGI is the same wheel on every base
class TestOneCopy:
    """The request-timeout and JSON-log tests share one started copy, removed
    when both are done. Not kept longer: a later test's copy, built from the
    same files, gets the same image ID, which a re-install cannot remove while
    two names hold it (test_reinstalls_swap_images_while_serving)."""

    def test_a_request_past_the_timeout_is_ended(self, shared_copy):
        running = shared_copy
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

    # The counting is the app's, the same on every base; nginx's part (who may
    # read it, its counts added) is checked on each suite's nginx below.
    @pytest.mark.varies_with()
    def test_prometheus_counts_every_request_whichever_worker_served_it(
        self, shared_copy, tmp_path
    ):
        """Debian's Prometheus scrapes /metrics through nginx: 50 requests to /,
        8 at a time so that several uWSGI workers serve them, raise its count
        for / by exactly 50. The worker the request timeout killed (the test
        before) no longer counts as busy; nginx's counts come in the answer."""
        running, requests = shared_copy, 50
        served = 'sum(app_requests_total{route="/", method="GET", status="200"})'
        with prometheus(running.port, tmp_path) as query:
            assert settle(query, 'up{job="app"}', 1) == 1
            before = query(served) or 0
            with ThreadPoolExecutor(8) as pool:
                statuses = set(pool.map(lambda _: http_get(f"{running.url}/")[0], range(requests)))
            assert statuses == {200}
            assert settle(query, served, before + requests) == before + requests
            assert query('sum(app_request_duration_seconds_count{route="/"})') == before + requests
            # uWSGI's count: the scrape's worker only, none the timeout killed.
            assert query("app_workers_busy") == 1 and query("app_workers") >= 2
            assert query("nginx_connections_active") >= 1
        by_worker = [count for count in counts_by_worker(running.app) if count]
        assert len(by_worker) >= 2 and sum(by_worker) == before + requests, by_worker

    def test_json_logs_trace_each_request_by_nginxs_own_id(self, shared_copy):
        """With LOG_FORMAT=json, every access-log and app line is JSON and names the
        request's id, nginx's own: by default a client's headers change nothing."""
        running = shared_copy
        # The access-log lines of the shared copy's earlier requests.
        earlier = len(logs(running.proxy, "stdout"))
        request_id, seen = whoami(running)
        # Nobody is trusted by default: the client's headers change nothing.
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)
        assert seen["request_id"] == request_id
        assert seen["remote_addr"] != FORGED["X-Forwarded-For"]
        for path in ["/", "/api/hello", "/health", "/static/style.css", "/no-such-page"] * 20:
            http_get(f"{running.url}{path}")

        access = [json.loads(line) for line in logs(running.proxy, "stdout")]
        assert len(access) >= earlier + 101
        [line] = [line for line in access if line["request_id"] == request_id]
        assert (line["path"], line["status"], line["client"]) == (
            "/_test/whoami",
            200,
            seen["remote_addr"],
        )
        assert {"time", "method", "bytes", "duration", "upstream_time", "user_agent"} <= set(line)
        app_lines = [json.loads(line) for line in logs(running.app, "stderr") if line[:1] == "{"]
        assert {"message": "whoami", "request_id": request_id}.items() <= app_lines[-1].items()


@contextmanager
def prometheus(port, folder):
    """Debian's Prometheus, here, scraping 127.0.0.1:port/metrics each second.
    Yields a function that runs a query and returns its one value (None
    while there is no such series)."""
    config = folder / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: app\n"
        "    metrics_path: /metrics\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    api = f"http://127.0.0.1:{free_port()}/api/v1/query"
    with (folder / "prometheus.log").open("w") as log:
        server = subprocess.Popen(
            [
                tool("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address={urllib.parse.urlsplit(api).netloc}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def query(promql):
        status, _, body = http_get(f"{api}?{urllib.parse.urlencode({'query': promql})}")
        assert status == 200, body
        result = json.loads(body)["data"]["result"]
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else None

    try:
        yield query
    finally:
        server.terminate()
        server.wait(timeout=30)


def settle(query, promql, expected, timeout=30):
    """The query's value once it is expected, or the last one in timeout seconds."""
    deadline = time.monotonic() + timeout
    while (value := query(promql)) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    return value


# Each uWSGI worker's own count of GET / (200), from its file.
BY_WORKER = """
import glob, os
from prometheus_client.multiprocess import MultiProcessCollector
for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "counter_*.db")):
    samples = [s for m in MultiProcessCollector.merge([path], accumulate=False) for s in m.samples]
    print(sum(s.value for s in samples if s.name == "app_requests_total"
              and (s.labels["route"], s.labels["status"]) == ("/", "200")))
"""


def counts_by_worker(container):
    lines = docker("exec", container, "python3", "-c", BY_WORKER).stdout.split()
    return [float(line) for line in lines]


@pytest.mark.varies_with("nginx")
def test_a_trusted_load_balancers_headers_are_taken(variant, tmp_path):
    """Also for /metrics: a trusted load balancer forwarding for Prometheus may
    read it; forwarding for anyone else, or asking for itself, may not."""
    settings = {"NGINX_REAL_IP_FROM": LOAD_BALANCERS, "NGINX_METRICS_FROM": PROMETHEUS}
    with started_copy(variant, tmp_path, f"{variant.name}-trusted", settings) as running:
        request_id, seen = whoami(running)
        assert request_id == seen["request_id"] == FORGED["X-Request-ID"]
        assert seen["remote_addr"] == FORGED["X-Forwarded-For"]
        [line] = [line for line in logs(running.proxy, "stdout") if request_id in line]
        assert line.startswith(f"{FORGED['X-Forwarded-For']} - ")
        [app_line] = [line for line in logs(running.app, "stderr") if "whoami" in line]
        assert app_line.endswith(f"[{request_id}] whoami")

        metrics = f"{running.url}/metrics"
        status, _, body = http_get(metrics, headers={"X-Forwarded-For": PROMETHEUS})
        assert status == 200
        assert b"app_requests_total" in body and b"nginx_connections_active" in body
        assert http_get(metrics, headers=FORGED)[0] == 403
        assert http_get(metrics)[0] == 403


def container_id(name):
    return docker("inspect", "--format", "{{.Id}}", name).stdout.strip()


def secret_key_lines(container):
    log = docker("logs", container)
    return [line for line in (log.stdout + log.stderr).splitlines() if "secret key" in line]


@pytest.mark.varies_with()
def test_a_session_outlives_a_reinstall(variant, tmp_path):
    """Nothing given, the first start makes the secret key and keeps it in
    the data volume (one log line says so); a re-install of changed code
    reuses it, so a session cookie made before is still valid; the key is
    never in the container's settings or logs, nor a file of the project."""
    name = f"{variant.name}-session"
    project = tmp_path / name
    with started_copy(variant, tmp_path, name, {}) as running:
        kept = f"{IMAGE['data_dir']}/secret_key"
        # install.sh tries the new image in a throwaway container first: that
        # one made the key (its line is in install.sh's output).
        first_start = "reused from" if not variant.split else "generated and kept in"
        assert secret_key_lines(running.app) == [
            f"secret key: {first_start} the data volume ({kept})"
        ]
        key = docker("exec", running.app, "cat", kept).stdout
        assert len(key) == 64
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
        assert secret_key_lines(again.app) == [f"secret key: reused from the data volume ({kept})"]
        assert docker("exec", again.app, "cat", kept).stdout == key
        log = docker("logs", again.app)
        assert key not in docker("inspect", again.app).stdout + log.stdout + log.stderr
        assert not (project / SECRET_KEY_PATH).exists()


@pytest.mark.varies_with()
def test_the_secret_key_is_given_or_kept_else_the_start_stops_with_one_line(variant):
    """A given file comes first, then SECRET_KEY; else one is kept in the data
    volume. Where none can be kept (no volume, read-only), where swarm and
    Kubernetes want one given (SECRET_KEY_GENERATE=false), or when the given
    file is empty, the container stops with one line."""
    image = variant.images[0]  # the app's (split) or the only one
    read_only = ["--read-only", "--tmpfs", "/tmp"]
    data_dir = IMAGE["data_dir"]
    nowhere = docker("run", "--rm", *read_only, image, check=False)
    assert nowhere.returncode == 1
    assert nowhere.stderr.splitlines()[-1] == (
        f"no secret key given, and none can be kept in FLASK_DATA_DIR ({data_dir}):"
        " Read-only file system; mount a volume there, or give SECRET_KEY_FILE (docs/operating.md)"
    )
    required = ["--env", "SECRET_KEY_GENERATE=false"]
    refused = docker("run", "--rm", *required, image, check=False)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        f"no secret key: no file at SECRET_KEY_FILE ({KEY_FILE}), SECRET_KEY is not set"
        " and SECRET_KEY_GENERATE is off (docs/operating.md)"
    )
    # SECRET_KEY, for platforms with variables only.
    name = f"{variant.name}-key-variable"
    try:
        docker("run", "--detach", "--name", name, *read_only, *required, "--env", "SECRET_KEY=k",
               image)  # fmt: skip
        wait_checks_pass(name)
        assert secret_key_lines(name) == ["secret key: the given variable SECRET_KEY"]
    finally:
        docker("rm", "--force", name, check=False)
    # A file there comes first, even an empty one.
    empty = variant.project.parent / f"{name}-empty"
    empty.write_text("")
    mount = ["--volume", f"{empty}:{KEY_FILE}:ro", "--env", "SECRET_KEY=k"]
    broken = docker("run", "--rm", *read_only, *mount, image, check=False)
    assert broken.returncode == 1
    assert broken.stderr.splitlines()[-1] == f"SECRET_KEY_FILE {KEY_FILE} is empty"


REINSTALLS = 2


@pytest.mark.varies_with()
def test_reinstalls_swap_images_while_serving(variant, tmp_path):
    """Re-installing changed code, twice, under a request every 20 ms. One
    container: each swap leaves about a second without an answer (one port,
    one owner). Split (make up, scripts/deploy.sh): new replicas before old
    ones go, no request fails. Each re-install keeps the image it replaced as
    :previous and removes the one before: never more than two."""
    name = f"{variant.name}-swap"
    with started_copy(variant, tmp_path, name, {}) as running:
        project = tmp_path / name
        image = f"{name}-app" if variant.split else name
        ids = [image_id(f"{image}:latest")]
        with Loop("127.0.0.1", running.port, path="/api/hello") as loop:
            for change in range(REINSTALLS):
                with (project / "app" / "__init__.py").open("a") as init:
                    init.write(f"# change {change}\n")
                install(variant, project, name, running.port)
                ids.append(image_id(f"{image}:latest"))
            time.sleep(1)
        print(f"{variant.deployment}: {loop}")
        assert len(set(ids)) == len(ids) == REINSTALLS + 1, ids
        assert image_id(f"{image}:previous") == ids[-2]
        left = [i for i in ids[:-2] if docker("image", "inspect", i, check=False).returncode == 0]
        assert left == [], "an image replaced twice is removed"
        if variant.split:
            assert loop.failed == 0, loop
            # A request sent to a removed replica's address waits nginx's
            # 2 s connect timeout before it goes to a new one.
            assert loop.longest_gap < 2.5, loop
        else:
            # About 0.8 s without a listener, plus one TCP SYN retransmission
            # (1 s) for a connection opened while Docker wires up the new one.
            assert loop.failed <= 40 * REINSTALLS, loop
            assert loop.longest_gap < 2.0, loop
