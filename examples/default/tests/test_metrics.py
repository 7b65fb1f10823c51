"""/metrics (app/metrics.py) counts each request once, under its route, and
adds up the counts of every process, as of uWSGI's workers: here the tests'
own process and others started beside it (tests/conftest.py points them all
at one PROMETHEUS_MULTIPROC_DIR)."""

import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from app.metrics import OTHER, UNMATCHED

# The route asked for: one the app keeps whatever pages it has.
ROUTE = "/health"
# A process of its own, as a uWSGI worker is, with the tests' environment
# (tests/conftest.py): it serves argv[1] requests to ROUTE.
SERVES = f"""
import os, sys
from app import create_app
client = create_app(dict(TESTING=True, SECRET_KEY=os.environ["SECRET_KEY"])).test_client()
for _ in range(int(sys.argv[1])):
    assert client.get("{ROUTE}").status_code == 200
"""


def run(code, *args):
    """Python code in a process of its own; whether it exited 0."""
    command = [sys.executable, "-c", code, *args]
    return subprocess.run(command, check=False).returncode == 0  # noqa: S603 (this file's code)


def value(client, name, **labels):
    """The sample `name` with these labels in /metrics now; 0 if none."""
    response = client.get("/metrics")
    assert (response.status_code, response.mimetype) == (200, "text/plain")
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def requests(client, route, status, method="GET"):
    return value(client, "app_requests_total", route=route, method=method, status=status)


def test_each_request_counts_once_under_its_route_and_status(client):
    before = requests(client, ROUTE, "200"), requests(client, UNMATCHED, "404")
    timed = value(client, "app_request_duration_seconds_count", route=ROUTE)
    for _ in range(7):
        client.get(ROUTE)
    for path in ("/no-such-page", "/nor-this-one", "/wp-login.php"):
        client.get(path)
    assert requests(client, ROUTE, "200") == before[0] + 7
    # Paths no route matches share one label: a scan makes no new series.
    assert requests(client, UNMATCHED, "404") == before[1] + 3
    assert value(client, "app_request_duration_seconds_count", route=ROUTE) == timed + 7
    assert requests(client, "/no-such-page", "404") == 0


def test_a_made_up_method_shares_one_label(client):
    before = requests(client, UNMATCHED, "405", method=OTHER)
    assert client.open(ROUTE, method="BREW").status_code == 405
    assert requests(client, UNMATCHED, "405", method=OTHER) == before + 1


def test_the_counts_of_every_process_add_up(client):
    before = requests(client, ROUTE, "200")
    for count in (20, 30):
        assert run(SERVES, str(count))
    for _ in range(5):
        client.get(ROUTE)
    assert requests(client, ROUTE, "200") == before + 55
