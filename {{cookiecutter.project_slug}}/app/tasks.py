"""Background jobs: Celery tasks, run by the worker service, queued in Redis
(the broker service) (docs/tasks.md). Your tasks go here, or in the
modules of your routes: the worker imports the app package, and so every
module app/__init__.py imports.

    @celery.task
    def send_welcome(user_id: int) -> None: ...

    send_welcome.delay(user.id)   # in a route: returns at once

Nothing queued is lost: a task is acknowledged only once it has run, so one
whose worker died (killed, out of memory, the host gone) runs again; make
each task safe to run twice. A worker that is stopped finishes what it runs
first. Each task runs in the app's context (the database, current_app), and
each log line about it carries the id of the request that queued it.
"""

import functools
import logging
import os
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from celery import Celery, Task, current_task, signals
from flask import Flask, has_app_context, has_request_context, request

from app import logs, ready


def broker_url() -> str:
    """BROKER_URL, with the password from the file BROKER_PASSWORD_FILE names
    when there is one (so it never shows in `docker inspect`). Outside a
    container (the app's tests) there is none: tasks run in-process there."""
    url = os.environ.get("BROKER_URL", "memory://")
    password_file = os.environ.get("BROKER_PASSWORD_FILE")
    if password_file and Path(password_file).parent.is_dir():
        # Its folder is mounted: under compose the broker-password service
        # writes the file as the app starts; wait for it (up to 30 s).
        if not Path(password_file).is_file():
            print(f"waiting for the broker's password ({password_file})", file=sys.stderr)
        for _ in range(300):
            if Path(password_file).is_file():
                break
            time.sleep(0.1)
    if password_file and Path(password_file).is_file():
        password = quote(Path(password_file).read_text().strip(), safe="")
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        user = parts.username or ""
        url = urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))
    return url


class AppTask(Task):
    """Runs in the app's context, and is queued with an id that names the
    request queuing it: <random id>@<request id>."""

    def __call__(self, *args, **kwargs):
        if has_app_context():  # called directly, or run in-process by a test
            return self.run(*args, **kwargs)
        with worker_app().app_context():
            return self.run(*args, **kwargs)

    def apply_async(self, args=None, kwargs=None, task_id=None, **options):
        if task_id is None and has_request_context():
            task_id = f"{uuid.uuid4()}@{request.headers.get('X-Request-ID', '-')}"
        return super().apply_async(args, kwargs, task_id=task_id, **options)


# The celery command takes BROKER_URL as its --broker, without the password,
# and hands it on as CELERY_BROKER_URL, which Celery prefers to its
# configuration: the configuration below decides.
os.environ.pop("CELERY_BROKER_URL", None)
celery = Celery("app", task_cls=AppTask)
URL = broker_url()
celery.conf.update(
    broker_url=URL,
    result_backend=URL,
    broker_connection_retry_on_startup=True,
    # Acknowledged once run, so a task whose worker dies runs again; one task
    # taken at a time per process, so none waits behind a long one.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    result_expires=24 * 3600,
    worker_hijack_root_logger=False,
    # The tasks the beat service queues when they are due (docs/tasks.md),
    # by name: {"nightly-report": {"task": "app.reports.build", "schedule":
    # crontab(hour=3, minute=0)}} (from celery.schedules), or every N seconds.
    beat_schedule={},
)


@ready.check("broker")
def broker_answers() -> None:
    timeouts = {"socket_connect_timeout": ready.TIMEOUT, "socket_timeout": ready.TIMEOUT}
    with celery.connection_for_write(transport_options=timeouts) as connection:
        connection.ensure_connection(max_retries=0)


@functools.cache
def worker_app() -> Flask:
    """The app, made once as the worker starts, before its processes fork (as
    uWSGI does): every module create_app() imports is imported, so the tasks
    they declare are known. Its lines go to the worker's log (below)."""
    from app import create_app

    app = create_app()
    app.logger.handlers[:] = []
    return app


@signals.worker_init.connect
def make_worker_app(**_) -> None:
    worker_app()


@signals.celeryd_init.connect
def worker_settings(conf, **_) -> None:
    """The worker's settings (docs/settings.md), read as it starts."""
    # WORKER_TIME_LIMIT: the longest a task may run, in seconds; then it is
    # ended. A task taken but not acknowledged is queued again once it has
    # been out for twice that (the visibility timeout: never while it may
    # still run), by a worker that looks every 10 s: at most 2 x
    # WORKER_TIME_LIMIT + 10 s after its worker died.
    time_limit = int(os.environ["WORKER_TIME_LIMIT"])
    conf.task_time_limit = time_limit
    conf.broker_transport_options = {
        "visibility_timeout": 2 * time_limit,
        "unacked_restore_throttle": 1,
    }
    # As many processes as uWSGI has workers (two per CPU the container may
    # use: docker/app/entrypoint.d/10-uwsgi-processes.envsh), unless
    # WORKER_CONCURRENCY says.
    conf.worker_concurrency = int(os.environ["WORKER_CONCURRENCY"] or os.environ["UWSGI_PROCESSES"])


class TaskRequestId(logging.Filter):
    """The id of the request that queued the task a line is about (in its id
    after the "@"), or "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        data = getattr(record, "data", None)
        task_id = data.get("id") if isinstance(data, dict) else None
        if task_id is None and current_task:
            task_id = current_task.request.id
        record.request_id = (task_id or "").partition("@")[2] or "-"
        return True


@signals.setup_logging.connect
def worker_logs(**_) -> None:
    """The worker's lines, Celery's and the tasks', in LOG_FORMAT as the app's."""
    root = logging.getLogger()
    root.handlers[:] = [logs.handler(TaskRequestId())]
    root.setLevel(logging.INFO)
