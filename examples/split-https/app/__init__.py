"""The Flask application. Add routes in create_app or register blueprints there."""

from flask import Flask, render_template
from sqlalchemy import func, select

from app import database, logs, secret_key
from app.database import Visit, db


def create_app() -> Flask:
    # Files in app/static are served at this path: by Flask's own static route
    # in development, by nginx in the container (never reaching uWSGI there).
    app = Flask(__name__, static_url_path="/static")
    # Settings come from FLASK_* environment variables: FLASK_DATA_DIR -> DATA_DIR.
    app.config.from_prefixed_env()
    app.secret_key = secret_key.load()
    logs.configure(app)
    database.init_app(app)

    @app.get("/")
    def index():
        return render_template("index.html")

    @app.get("/api/hello")
    def hello():
        return {"message": "Hello from flask-app!"}

    @app.get("/api/visits")
    def visits():
        return {"visits": db.session.scalar(select(func.count(Visit.id)))}

    @app.post("/api/visits")
    def record_visit():
        db.session.add(Visit())
        db.session.commit()
        return visits(), 201

    @app.get("/health")
    def health():
        # Probed by Docker's HEALTHCHECK and by load balancers: keep it cheap.
        return {"status": "ok"}

    return app
