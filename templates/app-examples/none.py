"""EXAMPLE routes under /api, to learn from and then delete: `make remove-examples`
deletes this file, its tests (tests/test_examples.py), its part of the home
page (app/templates/examples.html).

Their endpoints are named examples.<function> (url_for("examples.hello")): an
app of your own may have a `hello` too.
"""

from flask import Blueprint, current_app

examples = Blueprint("examples", __name__, url_prefix="/api")


@examples.get("/hello")
def hello():
    return {"message": f"Hello from {current_app.config['NAME']}!"}
