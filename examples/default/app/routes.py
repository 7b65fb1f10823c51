"""The app's routes: add yours here (url_for("main.<function>") links to one).

A bigger app splits them into blueprints of their own, registered in
create_app (app/__init__.py).
"""

from flask import Blueprint, render_template

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/health")
def health():
    # Probed by Docker's HEALTHCHECK and Kubernetes' liveness probe: keep it
    # cheap. Whether the database answers is /ready's to say (app/ready.py).
    return {"status": "ok"}
