"""Background jobs (`worker: celery`) in the real engine: one compose project
of a split bake (Debian trixie, SQLite), its broker Redis (the redis image, or
the stand-in made here) and its worker, shared by the tests in the order of
their names. Tasks are queued and read through nginx, as a user does, with the
example routes (app/task_examples.py). Nothing queued is lost: a worker killed
mid-task, a worker stopped, the broker killed with tasks queued, an update
while tasks run. Then beat queues the tasks of a schedule."""

import json
import time
from dataclasses import dataclass

import pytest
from deployments import Variant, bake_and_build
from engine import (
    anonymous_volumes,
    base_image_problem,
    docker,
    free_port,
    http_get,
    stand_in,
    wait_serving,
    wait_until,
)
from helpers import IMAGE, RUN_PREFIX, run, skip_or_fail

BASE = "debian:trixie-slim"
# Made in the background while earlier Docker tests run (deployments.py).
STAND_INS = [stand_in(IMAGE["redis_image"])]
# WORKER_TIME_LIMIT here: a task taken by a worker that died is handed out
# again after twice that (the visibility timeout), instead of 4 minutes.
TIME_LIMIT = 5
# What a user adds to app/tasks.py for a task queued every second.
SCHEDULE = """
celery.conf.beat_schedule = {
    "tick": {"task": "app.task_examples.work", "schedule": 1.0, "args": [0]},
}
"""


@dataclass
class Stack:
    variant: Variant
    name: str
    port: int

    def compose(self, *args, check=True):
        return self.variant.compose(*args, project=self.name, check=check)

    def container(self, service):
        return self.compose("ps", "--quiet", "--all", service).stdout.split()[0]

    def enqueue(self, seconds):
        """POST /api/tasks through nginx: (task id, the request's id)."""
        url = f"http://127.0.0.1:{self.port}/api/tasks?seconds={seconds}"
        status, headers, body = http_get(url, method="POST")
        assert status == 202, body
        return json.loads(body)["id"], headers["X-Request-ID"]

    def state(self, task_id):
        status, _, body = http_get(f"http://127.0.0.1:{self.port}/api/tasks/{task_id}")
        assert status == 200, body
        return json.loads(body)

    def wait_state(self, task_id, wanted, timeout=60):
        wait_until(self.container("proxy"), lambda: self.state(task_id)["state"] == wanted,
                   f"task {task_id} {wanted}", timeout, pause=0.5)  # fmt: skip

    def worker_log(self):
        logs = self.compose("logs", "--no-log-prefix", "worker")
        return (logs.stdout + logs.stderr).splitlines()

    def starts(self):
        """How often a worker said it was ready (its health check comes later)."""
        return sum(line.endswith(" ready.") for line in self.worker_log())

    def start_worker(self, *services):
        """Start the worker (and services), until it has said it is ready."""
        before = self.starts()
        self.compose("up", "--detach", *services, "worker")
        wait_until(self.container("worker"), lambda: self.starts() > before,
                   "the worker ready", 60, pause=0.5)  # fmt: skip


@pytest.fixture(scope="module")
def variant(request, engine, cookies_session):
    problem = base_image_problem(IMAGE["redis_image"])
    if problem:
        skip_or_fail(f"{IMAGE['redis_image']}: {problem}")
    return bake_and_build(
        request, cookies_session, BASE, "split", database="sqlite", worker="celery"
    )


@pytest.fixture(scope="module")
def stack(variant):
    port = free_port()
    settings = {"HOST_PORT": port, "WORKER_TIME_LIMIT": TIME_LIMIT}
    (variant.project / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    stack = Stack(variant, f"{RUN_PREFIX}-worker", port)
    try:
        # The app first, alone: it starts before broker-password has made
        # the broker's password, and must wait for it (app/tasks.py).
        stack.compose("up", "--detach", "app")
        app = stack.container("app")
        waiting = "waiting for the broker's password"
        wait_until(app, lambda: waiting in docker("logs", app).stderr, f"'{waiting}'", 30)
        stack.start_worker("proxy")  # and all they depend on
        wait_serving(stack.container("proxy"), port)
        yield stack
    finally:
        stack.compose("down", "--volumes", "--remove-orphans", check=False)
        (variant.project / ".env").unlink(missing_ok=True)


@pytest.mark.docker
def test_a_task_queued_through_nginx_runs_and_each_line_names_its_request(stack):
    queued = [stack.enqueue(0.2) for _ in range(5)]
    for task_id, request_id in queued:
        assert task_id.endswith(f"@{request_id}")
        stack.wait_state(task_id, "SUCCESS")
        assert stack.state(task_id)["result"] == {"seconds": 0.2, "visits": 0}
    lines = stack.worker_log()
    for task_id, request_id in queued:
        # Text format: "time level logger [request id] message". Celery's
        # lines name the task; the task's own line (app.logger) does not.
        mine = [line for line in lines if task_id in line]
        assert len(mine) >= 2, lines  # received, succeeded
        assert all(f"[{request_id}]" in line for line in mine), mine
        own = [line for line in lines if f"[{request_id}] working for" in line]
        assert len(own) == 1, lines
    # The one-shot broker-password leaves no volume behind (a tmpfs at its
    # image's VOLUME).
    assert anonymous_volumes(stack.container("broker-password")) == []


@pytest.mark.docker
def test_b_a_worker_killed_mid_task_runs_it_again_once_a_worker_is_back(stack):
    task_id, _ = stack.enqueue(3)
    stack.wait_state(task_id, "STARTED")
    worker = stack.container("worker")
    docker("kill", "--signal", "KILL", worker)
    stack.start_worker()
    back = time.monotonic()
    # Handed out again after the visibility timeout (2 x TIME_LIMIT), then run.
    stack.wait_state(task_id, "SUCCESS", timeout=2 * TIME_LIMIT + 30)
    took = time.monotonic() - back
    received = [line for line in stack.worker_log() if task_id in line and "received" in line]
    assert len(received) == 2, received
    print(f"killed mid-task: ran again {took:.0f} s after the worker was back")


@pytest.mark.docker
def test_c_a_stopped_worker_finishes_its_task_first(stack):
    task_id, _ = stack.enqueue(3)
    stack.wait_state(task_id, "STARTED")
    stack.compose("stop", "worker")  # SIGTERM, then up to stop_grace_period
    assert stack.state(task_id)["state"] == "SUCCESS"
    assert any(task_id in line and "succeeded" in line for line in stack.worker_log())
    stack.start_worker()


@pytest.mark.docker
def test_d_tasks_queued_survive_the_broker_killed(stack):
    """And while the broker is down, /ready says so and /health does not."""
    stack.compose("stop", "worker")
    queued = [stack.enqueue(0) for _ in range(20)]
    time.sleep(2)  # the append-only file is written to disk every second
    docker("kill", "--signal", "KILL", stack.container("broker"))
    # Meanwhile the app is alive, not ready (app/ready.py).
    assert http_get(f"http://127.0.0.1:{stack.port}/health")[0] == 200
    status, _, body = http_get(f"http://127.0.0.1:{stack.port}/ready")
    assert (status, json.loads(body)) == (503, {"status": "unavailable", "down": ["broker"]})
    stack.start_worker("broker")
    for task_id, _ in queued:
        stack.wait_state(task_id, "SUCCESS")
    assert http_get(f"http://127.0.0.1:{stack.port}/ready")[0] == 200


@pytest.mark.docker
def test_e_an_update_while_tasks_run_loses_none(stack):
    """make up (scripts/deploy.sh) with a new image of the app, and so of the
    worker, while tasks run and wait: every one of them runs. The change is
    a schedule, for the next test."""
    queued = [stack.enqueue(1) for _ in range(8)]
    stack.wait_state(queued[0][0], "STARTED")
    tasks = stack.variant.project / "app" / "tasks.py"
    before = tasks.read_text()
    tasks.write_text(before + SCHEDULE)
    try:
        run("scripts/deploy.sh", cwd=stack.variant.project, timeout=600,
            env={"COMPOSE_PROJECT_NAME": stack.name})  # fmt: skip
    finally:
        tasks.write_text(before)
        # deploy.sh keeps each replaced image as :previous, for a rollback.
        docker("rmi", *(f"{image}:previous" for image in stack.variant.images), check=False)
    for task_id, _ in queued:
        stack.wait_state(task_id, "SUCCESS")


@pytest.mark.docker
def test_f_beat_queues_the_tasks_of_the_schedule(stack):
    """make up started beat with the schedule above: the worker runs its task
    every second, a line of its own for each, with no request ("-")."""

    def ticks():
        return sum("[-] working for 0 s" in line for line in stack.worker_log())

    wait_until(stack.container("beat"), lambda: ticks() >= 3, "3 ticks run", 30, pause=1)
    beat = stack.compose("logs", "--no-log-prefix", "beat").stdout
    assert "Sending due task tick (app.task_examples.work)" in beat, beat
