"""/metrics: the app's numbers in Prometheus's text format. Requests by route,
method and status, their latency by route, and the uWSGI workers busy now.

Every uWSGI worker is a process of its own, with its own counts: where
PROMETHEUS_MULTIPROC_DIR is set (the image sets it, under /tmp), each
process writes its numbers to files there and /metrics adds up all of them,
so 50 requests to / count 50 whichever workers served them. A start-up
script empties the folder (docker/app/entrypoint.d/05-metrics-dir.sh).
Without it (flask run) the numbers are this process's.

A route is its rule ("/items/<int:id>"), never the path asked for: paths
no route matches share one label (UNMATCHED), so a scan of random URLs
cannot make a series for each. nginx answers /metrics only to the addresses
of NGINX_METRICS_FROM, adding its connection counts (docs/metrics.md).
"""

import os
import re
import time
from pathlib import Path

from flask import Blueprint, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

bp = Blueprint("metrics", __name__)
FOLDER = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if FOLDER:
    # The start-up script made it; a process started otherwise makes it too.
    os.makedirs(FOLDER, exist_ok=True)
UNMATCHED = "(unmatched)"
# Other methods (any word goes, to nginx) count as OTHER, for the same reason.
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
OTHER = "(other)"
REQUESTS = Counter(
    "app_requests", "Requests answered, by route, method and status.", ["route", "method", "status"]
)
LATENCY = Histogram("app_request_duration_seconds", "Time to answer, by route.", ["route"])
# In flight: a uWSGI worker serves one request at a time, so this is the
# workers busy; live processes only (a worker that is gone counts none).
BUSY = Gauge(
    "app_workers_busy", "uWSGI workers serving a request now.", multiprocess_mode="livesum"
)
LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")


def labels() -> tuple[str, str]:
    """The request's route and method, as labelled."""
    route = request.url_rule.rule if request.url_rule else UNMATCHED
    return route, request.method if request.method in METHODS else OTHER


@bp.before_app_request
def start():
    g.metrics_started = time.perf_counter()
    BUSY.inc()


@bp.after_app_request
def count(response):
    if "metrics_started" in g:
        route, method = labels()
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - g.metrics_started)
    return response


@bp.teardown_app_request
def done(_error):
    # Also after an unhandled exception (its 500 is counted by after_request).
    if g.pop("metrics_started", None) is not None:
        BUSY.dec()


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, the process is only looked up
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # another user's: there
    return False


def forget_dead_workers(folder: str) -> None:
    """A worker killed mid-request (harakiri) leaves its busy count behind:
    drop the live gauges of processes that are gone."""
    for path in Path(folder).glob("gauge_live*.db"):
        match = LIVE_FILE.fullmatch(path.name)
        if match and gone(int(match[1])):
            multiprocess.mark_process_dead(int(match[1]), folder)


@bp.get("/metrics")
def metrics():
    registry = REGISTRY
    if FOLDER:
        forget_dead_workers(FOLDER)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, FOLDER)
    # Prometheus's classic text format, which every Prometheus reads.
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
