"""EXAMPLE routes under /api, to learn from and then delete: `make remove-examples`
deletes this file, its tests (tests/test_examples.py), its part of the home
page (app/templates/examples.html) and its table's migration.

Their endpoints are named examples.<function> (url_for("examples.hello")): an
app of your own may have a `hello` too.
"""

from datetime import UTC, datetime

from flask import Blueprint, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Mapped, mapped_column

from app.database import db

examples = Blueprint("examples", __name__, url_prefix="/api")


@examples.get("/hello")
def hello():
    return {"message": f"Hello from {current_app.config['NAME']}!"}


class Visit(db.Model):
    """One row per visit recorded (POST /api/visits); its table is made by
    migrations/versions/0001_create_visit.py."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=lambda: datetime.now(UTC))


@examples.get("/visits")
def visits():
    return {"visits": db.session.scalar(select(func.count(Visit.id)))}


@examples.post("/visits")
def record_visit():
    db.session.add(Visit())
    db.session.commit()
    return visits(), 201
