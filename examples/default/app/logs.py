"""The app's own log lines: to stderr, as text or as one JSON object per line
(LOG_FORMAT, as nginx's access log), each with the id of its request."""

import json
import logging
import os
import sys

from flask import Flask, has_request_context, request


class RequestId(logging.Filter):
    """Adds the request's id (X-Request-ID, set by nginx) to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        in_request = has_request_context()
        record.request_id = request.headers.get("X-Request-ID", "-") if in_request else "-"
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": record.request_id,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def handler(request_id: logging.Filter) -> logging.Handler:
    """Lines to stderr in the format LOG_FORMAT names, each with the request
    id that the filter gives it."""
    stderr = logging.StreamHandler(sys.stderr)
    stderr.addFilter(request_id)
    json_lines = os.environ.get("LOG_FORMAT") == "json"
    stderr.setFormatter(JsonLines() if json_lines else logging.Formatter(TEXT))
    return stderr


def configure(app: Flask) -> None:
    """Flask's logger (app.logger), in the format LOG_FORMAT names."""
    app.logger.handlers[:] = [handler(RequestId())]
    app.logger.setLevel(logging.DEBUG if app.debug else logging.INFO)
