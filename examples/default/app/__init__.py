"""The Flask application. Add routes in create_app or register blueprints there."""

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)
    # Settings come from FLASK_* environment variables: FLASK_DATA_DIR -> DATA_DIR.
    app.config.from_prefixed_env()

    @app.get("/")
    def index():
        return {"message": "Hello from flask-app!"}

    @app.get("/health")
    def health():
        # Probed by Docker's HEALTHCHECK and by load balancers: keep it cheap.
        return {"status": "ok"}

    return app
