"""/ready: whether this copy of the app can serve now. /health (app/routes.py)
says only that the process answers: Docker's health check and Kubernetes'
liveness probe ask it, so that a database outage never restarts every app.
/ready is for what decides where requests go (Kubernetes' readiness probe, a
load balancer's health check): each service the app needs registers a check
here (app/database.py, app/tasks.py), and /ready answers 503 naming those that
fail, each within TIMEOUT seconds. Only their names: the errors go to the log.
"""

from collections.abc import Callable

from flask import Blueprint, current_app

bp = Blueprint("ready", __name__)
# The seconds a check may take: a service slower than that counts as down.
TIMEOUT = 2
CHECKS: dict[str, Callable[[], object]] = {}


def check(name: str):
    """Register the function as the check of the service `name`: it raises
    when the service does not answer."""

    def register(function: Callable[[], object]) -> Callable[[], object]:
        CHECKS[name] = function
        return function

    return register


@bp.get("/ready")
def ready():
    down = []
    for name, answers in CHECKS.items():
        try:
            answers()
        except Exception as error:  # noqa: BLE001 (whatever fails, the service is down)
            current_app.logger.warning("not ready: %s: %s", name, error)
            down.append(name)
    if down:
        return {"status": "unavailable", "down": down}, 503
    return {"status": "ready"}
