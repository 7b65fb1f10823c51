"""Entry point: uWSGI serves `app` from here; `python wsgi.py` runs the dev server."""

from app import create_app

app = create_app()

if __name__ == "__main__":
    # Only for local development: in the container uWSGI imports `app` above,
    # so this never starts a second server there.
    app.run(host="127.0.0.1", port=5000)
