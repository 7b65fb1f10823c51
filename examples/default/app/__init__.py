"""The Flask application, made by create_app() (Flask's application factory).

Your routes go in app/routes.py, or in blueprints of your own registered below.
"""

from collections.abc import Mapping
from typing import Any

from flask import Flask

from app import logs, metrics, ready, routes, secret_key
from app.examples import examples  # an example: `make remove-examples` deletes it

# The project's name, in the pages' titles (app/templates/base.html).
NAME = "Flask App"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The app, configured from FLASK_* variables and the secret key file;
    tests pass their settings, a key among them, in test_config (tests/conftest.py)."""
    # Reports to SENTRY_DSN, if set. Imported here: `python3 -m app.errors`
    # runs that module as a script.
    from app import errors

    errors.init()
    # Files in app/static are served at this path: by Flask's own static route
    # in development, by nginx in the container (never reaching uWSGI there).
    app = Flask(__name__, static_url_path="/static")
    app.config["NAME"] = NAME
    # Settings come from FLASK_* environment variables: FLASK_DATA_DIR -> DATA_DIR.
    app.config.from_prefixed_env()
    if test_config is None:
        app.secret_key = secret_key.load()
    else:
        app.config.from_mapping(test_config)
    logs.configure(app)
    # First: its hooks count and time whatever the others do (app/metrics.py).
    app.register_blueprint(metrics.bp)

    app.register_blueprint(routes.bp)
    app.register_blueprint(ready.bp)
    app.register_blueprint(examples)  # an example: `make remove-examples` deletes it
    return app
