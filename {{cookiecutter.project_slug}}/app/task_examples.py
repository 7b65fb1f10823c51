"""EXAMPLE background job under /api/tasks, to learn from and then delete:
`make remove-examples` deletes this file and its tests
(tests/test_task_examples.py).

    curl -X POST 'http://localhost:1337/api/tasks?seconds=5'   # 202, and where to look
    curl http://localhost:1337/api/tasks/<id>                  # PENDING, STARTED, SUCCESS

The task works for the seconds it is given, then reports what it found. It
only reads, so running it twice (after its worker died) does no harm.
"""

import time

from celery.result import AsyncResult
from flask import Blueprint, current_app, request, url_for

from app.tasks import celery

task_examples = Blueprint("task_examples", __name__, url_prefix="/api/tasks")
# The longest a request may ask for, in seconds.
LONGEST = 600


@celery.task
def work(seconds: float) -> dict:
    current_app.logger.info("working for %s s", seconds)
    time.sleep(seconds)
    return {"seconds": seconds, **found()}


def found() -> dict:
    """What the task reports besides its time: with a database, the visits
    recorded (app/examples.py)."""
    if "sqlalchemy" not in current_app.extensions:
        return {}
    from sqlalchemy import func, select

    from app.database import db
    from app.examples import Visit

    return {"visits": db.session.scalar(select(func.count(Visit.id)))}


@task_examples.post("")
def enqueue():
    seconds = request.args.get("seconds", "1")
    try:
        duration = float(seconds)
    except ValueError:
        duration = -1.0
    if not 0 <= duration <= LONGEST:
        return {"error": f"seconds '{seconds}': use a number from 0 to {LONGEST}"}, 400
    task = work.delay(duration)
    location = url_for("task_examples.result", task_id=task.id)
    return {"id": task.id, "result": location}, 202, {"Location": location}


@task_examples.get("/<task_id>")
def result(task_id: str):
    task = AsyncResult(task_id, app=celery)
    answer = {"id": task_id, "state": task.state}
    if task.successful():
        answer["result"] = task.result
    return answer
