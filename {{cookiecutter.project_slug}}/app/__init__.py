"""The Flask application. Add routes in create_app or register blueprints there."""

{% set database = cookiecutter.database != "none" %}
from flask import Flask, render_template
{% if database %}
from sqlalchemy import func, select
{% endif %}

from app import {{ "database, " if database }}logs, secret_key
{% if database %}
from app.database import Visit, db
{% endif %}


def create_app() -> Flask:
    # Files in app/static are served at this path: by Flask's own static route
    # in development, by nginx in the container (never reaching uWSGI there).
    app = Flask(__name__, static_url_path="{{ cookiecutter._static_url_path }}")
    # Settings come from FLASK_* environment variables: FLASK_DATA_DIR -> DATA_DIR.
    app.config.from_prefixed_env()
    app.secret_key = secret_key.load()
    logs.configure(app)
{% if database %}
    database.init_app(app)
{% endif %}

    @app.get("/")
    def index():
        return render_template("index.html")

    @app.get("/api/hello")
    def hello():
        return {"message": "Hello from {{ cookiecutter.project_slug }}!"}

{% if database %}
    @app.get("/api/visits")
    def visits():
        return {"visits": db.session.scalar(select(func.count(Visit.id)))}

    @app.post("/api/visits")
    def record_visit():
        db.session.add(Visit())
        db.session.commit()
        return visits(), 201

{% endif %}
    @app.get("/health")
    def health():
        # Probed by Docker's HEALTHCHECK and by load balancers: keep it cheap.
        return {"status": "ok"}

    return app
