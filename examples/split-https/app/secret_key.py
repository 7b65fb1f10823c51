"""The app's secret key: Flask signs session cookies (and CSRF tokens) with it.

Every deployment mounts it as a file at SECRET_KEY_FILE, so it never shows in
`docker inspect`; SECRET_KEY is the fallback for a platform that only has
variables. The container checks it before it serves (this file runs as a
script in docker/app/entrypoint.d/15-secret-key.sh, without importing Flask:
a start stays quick): a missing key stops the start with one line.
"""

import os
from pathlib import Path


def load() -> str:
    """The key from the file SECRET_KEY_FILE names, else from SECRET_KEY."""
    name = os.environ.get("SECRET_KEY_FILE", "")
    path = Path(name)
    if name and path.exists():
        try:
            key = path.read_text().strip()
        except OSError as error:
            raise SystemExit(f"SECRET_KEY_FILE {name}: {error.strerror}") from None
        if not key:
            raise SystemExit(f"SECRET_KEY_FILE {name} is empty")
        return key
    key = os.environ.get("SECRET_KEY", "")
    if not key:
        where = f"no file at SECRET_KEY_FILE ({name})" if name else "SECRET_KEY_FILE is not set"
        raise SystemExit(f"no secret key: {where}, and SECRET_KEY is not set (README.md)")
    return key


if __name__ == "__main__":
    load()
