"""The app's secret key: Flask signs session cookies (and CSRF tokens) with it.

Where it comes from, first found wins:
  1. the file SECRET_KEY_FILE names (a secret mounted there: swarm, Kubernetes,
     or one you give docker run or install.sh);
  2. the variable SECRET_KEY, for a platform that only has variables;
  3. the file secret_key in FLASK_DATA_DIR, the data volume: made there,
     random, on the first start and reused by every start after it, unless
     SECRET_KEY_GENERATE is "false" (swarm and Kubernetes set it: replicas on
     several hosts must share one key, which a volume of each host is not).
The container settles it before it serves (this file runs as a script in
docker/app/entrypoint.d/15-secret-key.sh: it imports only os and sys, which
Python has loaded at start anyway, so a start stays quick) and says in one log
line which it is; a key that is wanted but missing, empty or unreadable stops
the start with one line.
"""

import os
import sys

KEPT_NAME = "secret_key"


def read(path: str, setting: str) -> str:
    try:
        with open(path) as file:
            key = file.read().strip()
    except OSError as error:
        raise SystemExit(f"{setting} {path}: {error.strerror}") from None
    if not key:
        raise SystemExit(f"{setting} {path} is empty")
    return key


def keep_new(path: str) -> bool:
    """Write a new random key to path unless one is there; True if this made it.
    Written aside, then linked into place: replicas starting together on one
    volume agree on the first key, and nobody reads a half-written file."""
    folder = os.path.dirname(path)
    draft = os.path.join(folder, f".{KEPT_NAME}.{os.getpid()}")
    try:
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(os.urandom(32).hex())  # as secrets.token_hex(32)
        try:
            os.link(draft, path)
        except FileExistsError:
            return False
        finally:
            os.unlink(draft)
    except OSError as error:
        raise SystemExit(
            f"no secret key given, and none can be kept in FLASK_DATA_DIR ({folder}):"
            f" {error.strerror}; mount a volume there, or give SECRET_KEY_FILE (docs/operating.md)"
        ) from None
    return True


def settle() -> tuple[str, str]:
    """The key, and one line that says where it comes from."""
    name = os.environ.get("SECRET_KEY_FILE", "")
    if name and os.path.exists(name):
        return read(name, "SECRET_KEY_FILE"), f"the given file {name}"
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"], "the given variable SECRET_KEY"
    data_dir = os.environ.get("FLASK_DATA_DIR", "")
    generate = os.environ.get("SECRET_KEY_GENERATE", "true").lower() not in ("false", "0", "no")
    if not data_dir or not generate:
        where = f"no file at SECRET_KEY_FILE ({name})" if name else "SECRET_KEY_FILE is not set"
        why = "SECRET_KEY_GENERATE is off" if data_dir else "FLASK_DATA_DIR is not set"
        raise SystemExit(
            f"no secret key: {where}, SECRET_KEY is not set and {why} (docs/operating.md)"
        )
    kept = os.path.join(data_dir, KEPT_NAME)
    if not os.path.exists(kept) and keep_new(kept):
        return read(kept, "the kept key"), f"generated and kept in the data volume ({kept})"
    return read(kept, "the kept key"), f"reused from the data volume ({kept})"


def load() -> str:
    return settle()[0]


if __name__ == "__main__":
    print(f"secret key: {settle()[1]}", file=sys.stderr)
