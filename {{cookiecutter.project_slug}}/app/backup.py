"""Backups of the SQLite database, run in the app's container by
scripts/backup.sh (make backup, make restore FILE=...):

    python3 -m app.backup             writes a copy of the database to stdout
    python3 -m app.backup --restore FILE   puts the copy read from stdin (FILE's)
                                           in its place

The copy is made with SQLite's online backup, while the app goes on writing:
it holds every transaction committed before it began, and none half written
(a copy of the live file could catch one). A restore first checks the copy:
an SQLite database, not damaged, of this app, at a migration this release
knows. Anything else is refused with one line and the database is left as it
was. Then the database's pages are replaced in one step (the app's workers
wait for it) and the schema migrated up to this release's.
"""

import os
import sqlite3
import sys
import tempfile
from contextlib import closing
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent.parent / "migrations"
# Where a database is before its first migration (Alembic's name for it).
NONE = "base"


class Refused(Exception):
    """Why a file cannot be restored."""


def database() -> str:
    return make_url(os.environ["DATABASE_URL"]).database


def backup(out) -> None:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "copy.db"
        with (
            closing(sqlite3.connect(database())) as source,
            closing(sqlite3.connect(copy)) as target,
        ):
            source.backup(target)
        out.write(copy.read_bytes())


def checked(copy: Path) -> str:
    """The migration a copy is at, once it is found fit to restore."""
    if not copy.read_bytes()[:16] == b"SQLite format 3\0":
        raise Refused("it is not an SQLite database")
    try:
        with closing(sqlite3.connect(copy)) as connection:
            revision = inspected(connection, copy.stat().st_size)
    except sqlite3.DatabaseError as error:
        raise Refused(f"it is damaged ({error})") from None
    known = {NONE} | {
        script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()
    }
    if revision not in known:
        raise Refused(f"it is at migration {revision}, which this release does not have")
    return revision


def inspected(connection: sqlite3.Connection, size: int) -> str:
    """The migration of a whole, undamaged database of this app."""
    (pages,) = connection.execute("PRAGMA page_count").fetchone()
    (page_size,) = connection.execute("PRAGMA page_size").fetchone()
    if pages * page_size != size:
        raise Refused(f"it is cut short ({size} of its {pages * page_size} bytes)")
    problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise Refused(f"it is damaged ({problems[0]})")
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if "alembic_version" not in tables:
        raise Refused("it is not a database of this app (it has no alembic_version table)")
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else NONE


def restore(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "copy.db"
        copy.write_bytes(data)
        revision = checked(copy)
        with (
            closing(sqlite3.connect(copy)) as source,
            closing(sqlite3.connect(database(), timeout=30)) as target,
        ):
            source.backup(target)
    # An older copy's schema is brought up to this release's.
    from flask_migrate import upgrade

    from app import create_app

    with create_app().app_context():
        upgrade()
    return revision


def main() -> int:
    if sys.argv[1:2] != ["--restore"]:
        backup(sys.stdout.buffer)
        return 0
    name = " ".join(sys.argv[2:]) or "the backup"
    try:
        revision = restore(sys.stdin.buffer.read())
    except Refused as refused:
        print(f"not restored: {name}: {refused}; the database is left as it was", file=sys.stderr)
        return 1
    print(f"restored {name} (a backup at migration {revision})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
