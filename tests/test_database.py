"""The database option in the real engine: SQLite in one container and under
compose, PostgreSQL under compose (a stand-in of the official image when no
registry answers). A row written through nginx is read back and outlives a
re-install; the migrations run exactly once, never in the app's replicas; a
broken migration stops the start and leaves the running app alone; /ready
answers 503 while PostgreSQL is down, and a migration waits for it to come
back; PostgreSQL's password is made once, with no step before, and never
shown. A backup made while rows are written brings them back once the data
is gone, and a damaged or foreign file is refused; a rollback goes back to
the previous image, and is refused once the database is at a migration that
image does not have."""

import http.client
import json
import sqlite3
import subprocess
import threading
import time

import pytest
from deployments import run_install
from engine import (
    anonymous_volumes,
    base_image_problem,
    docker,
    free_port,
    http_get,
    image_id,
    stand_in,
    wait_serving,
)
from helpers import DEFAULT_BASE, IMAGE, RUN_PREFIX, bake, run, skip_or_fail

pytestmark = pytest.mark.docker

BASE = DEFAULT_BASE
# Made in the background while earlier Docker tests run (deployments.py).
STAND_INS = [stand_in(IMAGE["postgres_image"])]
UPGRADE = "Running upgrade"
MADE = "made the database's password"
WAITS = "The database does not answer"  # migrations/env.py, once per try
BROKEN = '''"""A migration that fails."""

revision = "0002"
down_revision = "0001"


def upgrade():
    raise RuntimeError("0002 cannot run")
'''
GOOD = '''"""A second table."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.create_table("note", sa.Column("id", sa.Integer(), primary_key=True))
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

    def backup(self, *args):
        """scripts/backup.sh (make backup, make restore FILE=...)."""
        return run("scripts/backup.sh", *args, cwd=self.project, check=False, timeout=300,
                   env={**self.env, "APP_CONTAINER": self.name})  # fmt: skip

    def rollback(self):
        """make rollback's script."""
        if not self.split:
            name, port = self.name, str(self.port)
            result = run_install(self.project, "--rollback", "--name", name, "--image", name,
                                 "--port", port)  # fmt: skip
            if result.returncode == 0:
                wait_serving(self.name, self.port)
            return result
        return run("scripts/deploy.sh", "--rollback", cwd=self.project, env=self.env, check=False,
                   timeout=900)  # fmt: skip

    def images(self):
        """(the image ids of the running app containers, of NAME:latest, of NAME:previous)."""
        image, containers = self.name, [self.name]
        if self.split:
            image = f"{self.name}-app"
            containers = self.compose("ps", "--quiet", "app").stdout.split()
        running = {docker("inspect", "-f", "{{.Image}}", c).stdout.strip() for c in containers}
        return running, image_id(f"{image}:latest"), image_id(f"{image}:previous")

    def remove_data(self):
        """The containers and the volume of the database's rows go."""
        if not self.split:
            docker("rm", "--force", self.name)
            docker("volume", "rm", f"{self.name}-data")
        else:
            self.compose("down")
            docker("volume", "rm", f"{self.name}_{'db' if 'postgres' in self.name else 'data'}")

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
    if "postgres" in installed.name:
        the_password_is_made_and_never_shown(installed)

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
    # with 503 naming it; started again, ready again. A migration started
    # meanwhile waits for it, and then runs.
    if "postgres" in installed.name:
        assert readiness(installed) == (200, 200, {"status": "ready"})
        installed.compose("stop", "db")
        down = (200, 503, {"status": "unavailable", "down": ["database"]})
        assert [readiness(installed) for _ in range(4)] == [down] * 4  # both replicas
        migrate = subprocess.Popen(
            ["docker", "compose", "run", "--rm", "--no-deps", "-T", "migrate"],
            cwd=installed.project, env=installed.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        waited = []
        for line in migrate.stdout:  # until it says it waits (or ends)
            waited.append(line)
            if WAITS in line:
                break
        installed.compose("start", "db")
        output = "".join(waited) + migrate.communicate(timeout=180)[0]
        assert migrate.returncode == 0, output
        assert WAITS in output
        deadline = time.monotonic() + 60
        while readiness(installed)[1] != 200:
            assert time.monotonic() < deadline, "not ready again once the database is back"
            time.sleep(1)

    (installed.project / "migrations" / "versions" / "0002_broken.py").unlink()
    rows = backs_up_and_restores(installed)
    # Rollbacks: install.sh's, and deploy.sh's (the same with either database).
    if installed.name.endswith(("-single", "postgres-split")):
        rolls_back(installed, rows)


def the_password_is_made_and_never_shown(installed):
    """The db-password service made PostgreSQL's password into its volume,
    with no step before; db and app read it there, never from a setting."""
    assert MADE in installed.compose("logs", "db-password").stdout
    password = installed.compose("run", "--rm", "--no-deps", "--entrypoint", "cat", "db-password",
                                 "/run/secrets/db_password").stdout  # fmt: skip
    assert len(password) == 64
    for service in ("app", "db"):
        for container in installed.compose("ps", "--quiet", service).stdout.split():
            assert password not in docker("inspect", container).stdout
    [made] = installed.compose("ps", "--all", "--quiet", "db-password").stdout.split()
    assert anonymous_volumes(made) == []


class Writer(threading.Thread):
    """POSTs a visit after another through nginx until stopped, counting the
    requests sent and those answered 201."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.sent, self.acknowledged = port, 0, 0
        self.stopped = threading.Event()

    def run(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.stopped.is_set():
            self.sent += 1
            try:
                connection.request("POST", "/api/visits")
                response = connection.getresponse()
                response.read()
                self.acknowledged += response.status == 201
            except (OSError, http.client.HTTPException):
                connection.close()

    def stop(self):
        self.stopped.set()
        self.join(30)


def backs_up_and_restores(installed):
    """Back up while rows are written, remove the data, restore: every row
    acknowledged before the backup began is back, none never sent. Damaged and
    foreign files are refused in one line, the rows left as they were. The
    number of rows restored."""
    before = visits(installed)[1]["visits"]
    writer = Writer(installed.port)
    writer.start()
    while writer.acknowledged < 20:
        time.sleep(0.05)
    acknowledged = before + writer.acknowledged
    backup = installed.backup()
    sent = before + writer.sent
    written_during = writer.acknowledged + before - acknowledged
    writer.stop()
    assert backup.returncode == 0, backup.stderr
    assert written_during > 0, "no row was written while the backup ran"
    file = installed.project / backup.stdout.strip()
    assert file.is_file() and file.parent.name == "backups"
    assert file.stat().st_mode & 0o077 == 0, "a backup is readable by its owner only"

    installed.remove_data()
    code, output = installed.install()
    assert code == 0, output
    assert visits(installed) == (200, {"visits": 0})
    if "postgres" in installed.name:  # its volume stayed: read again, not made anew
        assert MADE not in installed.compose("logs", "db-password").stdout
    restored = installed.backup("--restore", file)
    assert restored.returncode == 0, restored.stderr
    rows = visits(installed)[1]["visits"]
    assert acknowledged <= rows <= sent, (acknowledged, rows, sent)

    # A copy cut short (as a transfer that broke off), a file of another
    # kind, and a database that is not this app's: one line each, the rows
    # left as they were.
    damaged = file.with_name("damaged")
    damaged.write_bytes(file.read_bytes()[: file.stat().st_size * 2 // 3])
    foreign = file.with_name("foreign")
    foreign.write_text("name,visits\nhome,3\n")
    for bad in (damaged, foreign, other_database(installed)):
        refused = installed.backup("--restore", bad)
        assert refused.returncode != 0, bad
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert "not restored: " in refused.stderr and "left as it was" in refused.stderr
        assert visits(installed) == (200, {"visits": rows})
    return rows


def other_database(installed):
    """A backup of the same kind, of a database that is not the app's."""
    file = installed.project / "backups" / "other"
    if "postgres" in installed.name:
        script = ("createdb -U app other && psql -q -U app -c 'CREATE TABLE t (x int)' other"
                  " && pg_dump --format=custom -U app other")  # fmt: skip
        dump = run("docker", "compose", "exec", "-T", "db", "sh", "-c", script,
                   cwd=installed.project, env=installed.env, text=False)  # fmt: skip
        file.write_bytes(dump.stdout)
    else:
        with sqlite3.connect(file) as connection:
            connection.execute("CREATE TABLE visit (id INTEGER PRIMARY KEY)")
    return file


def rolls_back(installed, rows):
    """Two releases with a migration between them: a rollback goes back to the
    previous image, keeping the rows; once the database is at a migration
    that image does not have, it is refused in one line and nothing changes."""
    running, latest, previous = installed.images()
    assert running == {latest} and previous and previous != latest
    rolled = installed.rollback()
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert installed.images() == ({previous}, previous, latest)
    assert visits(installed) == (200, {"visits": rows})

    (installed.project / "migrations" / "versions" / "0002_note.py").write_text(GOOD)
    if installed.split:  # the proxy's image changes too (its static files)
        with (installed.project / "app" / "static" / "style.css").open("a") as css:
            css.write("/* changed */\n")
    code, output = installed.install()
    assert code == 0, output
    assert "Running upgrade 0001 -> 0002" in output
    now = installed.images()
    refused = installed.rollback()
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines() == [refused.stderr.strip()], refused.stderr
    assert "not rolled back: the database is at migration 0002, which " in refused.stderr
    assert installed.images() == now
    assert visits(installed) == (200, {"visits": rows})

    if installed.split:
        # An update of the app alone: the proxy keeps no :previous, or a
        # rollback would take it back two updates while the app goes one.
        proxy = f"{installed.name}-proxy:previous"
        assert image_id(proxy)
        with (installed.project / "wsgi.py").open("a") as wsgi:
            wsgi.write("# changed again\n")
        code, output = installed.install()
        assert code == 0, output
        assert installed.images()[2] == now[1]
        assert image_id(proxy) == ""


def readiness(deployed):
    """(status of /health, the JSON of /ready), through nginx."""
    site = f"http://127.0.0.1:{deployed.port}"
    health = http_get(f"{site}/health")[0]
    status, _, body = http_get(f"{site}/ready")
    return health, status, json.loads(body)
