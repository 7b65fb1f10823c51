"""The database option in the real engine: SQLite in one container and under
compose, PostgreSQL under compose (a stand-in of the official image when no
registry answers). A row written through nginx is read back and outlives a
re-install; the migrations run exactly once, never in the app's replicas; a
broken migration stops the start and leaves the running app alone; /ready
answers 503 while PostgreSQL is down."""

import json
import time

import pytest
from deployments import run_install
from engine import base_image_problem, docker, free_port, http_get, wait_serving
from helpers import DEFAULT_BASE, IMAGE, RUN_PREFIX, bake, run, skip_or_fail

pytestmark = pytest.mark.docker

BASE = DEFAULT_BASE
UPGRADE = "Running upgrade"
BROKEN = '''"""A migration that fails."""

revision = "0002"
down_revision = "0001"


def upgrade():
    raise RuntimeError("0002 cannot run")
'''
VARIANTS = [("sqlite", "single"), ("sqlite", "split"), ("postgres", "split")]


class Deployment:
    """A baked project with a database, installed as its users install it:
    install.sh, or make up (compose) with two app replicas."""

    def __init__(self, project, name, split):
        self.project, self.name, self.split = project, name, split
        self.port = free_port()
        self.env = {"COMPOSE_PROJECT_NAME": name, "HOST_PORT": str(self.port), "APP_REPLICAS": "2"}

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/api/visits"

    def install(self):
        """(exit code, output); the output holds every migration's log lines."""
        if not self.split:
            result = run_install(self.project, "--name", self.name, "--image", self.name,
                                 "--port", str(self.port))  # fmt: skip
            if result.returncode == 0:
                wait_serving(self.name, self.port)
            return result.returncode, result.stdout + result.stderr
        result = run("make", "up", cwd=self.project, env=self.env, check=False, timeout=900)
        migrate = self.compose("logs", "--no-log-prefix", "migrate").stdout
        return result.returncode, result.stdout + result.stderr + migrate

    def compose(self, *args, check=True):
        return run("docker", "compose", *args, cwd=self.project, env=self.env, check=check)

    def app_logs(self):
        """The logs of the running app containers (not of the migrations)."""
        if not self.split:
            log = docker("logs", self.name)
            return [log.stdout + log.stderr]
        ids = self.compose("ps", "--quiet", "app").stdout.split()
        return [docker("logs", container).stdout + docker("logs", container).stderr
                for container in ids]  # fmt: skip

    def remove(self):
        if not self.split:
            run_install(self.project, "--uninstall", "--name", self.name, "--image", self.name)
            docker("volume", "rm", f"{self.name}-data", check=False)
        else:
            self.compose("down", "--volumes", "--rmi", "local", check=False)


@pytest.fixture(params=VARIANTS, ids=lambda v: f"database:{v[0]}-deployment:{v[1]}")
def installed(request, engine, cookies_session):
    database, deployment = request.param
    for image in (BASE, IMAGE["postgres_image"] if database == "postgres" else None):
        problem = image and base_image_problem(image)
        if problem:
            skip_or_fail(f"{image}: {problem}")
    name = f"{RUN_PREFIX}-{database}-{deployment}"
    project = bake(cookies_session, project_name=name, base_image=BASE, deployment=deployment,
                   database=database, ci="none")  # fmt: skip
    deployed = Deployment(project, name, deployment == "split")
    try:
        yield deployed
    finally:
        deployed.remove()


def visits(deployed, method="GET"):
    status, _, body = http_get(deployed.url, method=method)
    return status, json.loads(body)


def test_reinstalls_migrate_once_keeping_the_rows(installed):
    code, output = installed.install()
    assert code == 0, output
    assert output.count(UPGRADE) == 1, output
    assert visits(installed, "POST") == (201, {"visits": 1})
    assert visits(installed, "POST") == (201, {"visits": 2})
    assert visits(installed) == (200, {"visits": 2})
    # The app's replicas (or the container's uWSGI) never ran a migration.
    assert len(installed.app_logs()) == (2 if installed.split else 1)
    assert not [log for log in installed.app_logs() if UPGRADE in log]

    # Again, with changed code (a new image): the rows are still there, and
    # nothing is migrated twice.
    with (installed.project / "wsgi.py").open("a") as wsgi:
        wsgi.write("# changed\n")
    if installed.split:
        installed.compose("down")  # the containers go; the volumes stay
    code, output = installed.install()
    assert code == 0, output
    assert UPGRADE not in output
    assert visits(installed) == (200, {"visits": 2})

    # A migration that fails stops the new start; the running app goes on.
    running = installed.app_logs()
    (installed.project / "migrations" / "versions" / "0002_broken.py").write_text(BROKEN)
    code, output = installed.install()
    assert code != 0
    assert "0002 cannot run" in output
    assert visits(installed) == (200, {"visits": 2})
    assert len(installed.app_logs()) == len(running)

    # /ready follows PostgreSQL, /health does not (SQLite is a file of the
    # app's own, never down alone): stopped, every replica answers /ready
    # with 503 naming it; started again, ready again.
    if "postgres" in installed.name:
        assert readiness(installed) == (200, 200, {"status": "ready"})
        installed.compose("stop", "db")
        down = (200, 503, {"status": "unavailable", "down": ["database"]})
        assert [readiness(installed) for _ in range(4)] == [down] * 4  # both replicas
        installed.compose("start", "db")
        deadline = time.monotonic() + 60
        while readiness(installed)[1] != 200:
            assert time.monotonic() < deadline, "not ready again once the database is back"
            time.sleep(1)


def readiness(deployed):
    """(status of /health, the JSON of /ready), through nginx."""
    site = f"http://127.0.0.1:{deployed.port}"
    health = http_get(f"{site}/health")[0]
    status, _, body = http_get(f"{site}/ready")
    return health, status, json.loads(body)
