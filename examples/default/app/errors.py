"""Error reports: where SENTRY_DSN is set, each unhandled exception of a
request goes to that Sentry project, or to any server that speaks Sentry's
protocol, tagged with the request's id. Nothing of the visitor goes with it:
of the request only its method and URL, no cookies, headers, query, form
data or body, no address, no local variables.

Check a DSN where the app runs: `python3 -m app.errors` sends a test event
and prints its id (docs/operating.md#error-reports).
"""

import os
import sys

import sentry_sdk
from flask import has_request_context, request

# What an event keeps of its request.
KEPT = ("method", "url")
OFF = {"mode": "off"}


def scrub(event: dict, _hint: dict) -> dict:
    if has_request_context():
        event.setdefault("tags", {})["request_id"] = request.headers.get("X-Request-ID", "-")
    if "request" in event:
        event["request"] = {key: event["request"][key] for key in KEPT if key in event["request"]}
    return event


def init() -> bool:
    """Report errors to SENTRY_DSN, if set; whether it is."""
    dsn = os.environ.get("SENTRY_DSN")
    if dsn:
        sentry_sdk.init(
            dsn=dsn,
            # No user, cookies, headers, bodies or query: the request's method
            # and URL only (scrub); no local variables (a view's may hold a
            # form's password).
            data_collection={
                "user_info": False,
                "cookies": OFF,
                "http_headers": {"request": OFF},
                "http_bodies": [],
                "url_query_params": OFF,
                "stack_frame_variables": False,
            },
            before_send=scrub,
        )
    return bool(dsn)


if __name__ == "__main__":
    if not init():
        sys.exit("app/errors.py: SENTRY_DSN is not set: no error is reported")
    event_id = sentry_sdk.capture_message("a test event from app/errors.py")
    sentry_sdk.flush(timeout=10)
    print(
        f"sent the test event {event_id}: look for it in the DSN's project (not there: check"
        " the DSN, and that this host reaches its server)"
    )
