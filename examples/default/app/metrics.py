"""/metrics: the app's numbers in Prometheus's text format. Requests by route,
method and status, their latency by route, and uWSGI's workers, busy and all.

Every uWSGI worker is a process of its own, with its own counts: where
PROMETHEUS_MULTIPROC_DIR is set (the image sets it, under /tmp), each
process writes its numbers to files there and /metrics adds up all of them,
so 50 requests to / count 50 whichever workers served them. A start-up
script empties the folder (docker/app/entrypoint.d/05-metrics-dir.sh).
Without it (flask run) the numbers are this process's.

The workers busy are uWSGI's own count, read at each scrape: a request pays
nothing for it, and a worker killed mid-request (harakiri) counts no more.
Outside uWSGI (flask run, the tests) there are none to count.

A route is its rule ("/items/<int:id>"), never the path asked for: paths
no route matches share one label (UNMATCHED), so a scan of random URLs
cannot make a series for each. nginx answers /metrics only to the addresses
of NGINX_METRICS_FROM, adding its connection counts (docs/metrics.md).
"""

import os
import time

from flask import Blueprint, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

try:
    import uwsgi  # uWSGI's own module: only in its processes
except ImportError:
    uwsgi = None

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


def labels() -> tuple[str, str]:
    """The request's route and method, as labelled."""
    route = request.url_rule.rule if request.url_rule else UNMATCHED
    return route, request.method if request.method in METHODS else OTHER


@bp.before_app_request
def start():
    g.metrics_started = time.perf_counter()


@bp.after_app_request
def count(response):
    if "metrics_started" in g:
        route, method = labels()
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - g.metrics_started)
    return response


class Workers:
    """uWSGI's workers now: how many there are, and how many serve a request
    (the scrape's among them)."""

    def collect(self):
        workers = uwsgi.workers()
        busy = sum(worker["status"] == b"busy" for worker in workers)
        yield GaugeMetricFamily("app_workers", "uWSGI workers.", value=len(workers))
        yield GaugeMetricFamily("app_workers_busy", "uWSGI workers serving a request now.", busy)


WORKERS = CollectorRegistry()
if uwsgi:
    WORKERS.register(Workers())


@bp.get("/metrics")
def metrics():
    if FOLDER:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, FOLDER)
    else:
        registry = REGISTRY  # this process's own
    numbers = generate_latest(registry) + generate_latest(WORKERS)
    # Prometheus's classic text format, which every Prometheus reads.
    return Response(numbers, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
