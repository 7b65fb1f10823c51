"""Backups of the SQLite database (app/backup.py): a restore brings back the
rows of the backup's time, and a file that is not a whole backup of this
app's database, at a migration it has, is refused with the database as it was."""

import io
import sqlite3
from contextlib import closing

import pytest

from app import backup


def rows(path):
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT word FROM kept ORDER BY word").fetchall()


@pytest.fixture
def database(app, tmp_path):
    """The app's database, migrated, with a table of one row."""
    path = backup.database()
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE kept (word TEXT)")
        connection.execute("INSERT INTO kept VALUES ('before')")
    return path


def copy(database):
    out = io.BytesIO()
    backup.backup(out)
    return out.getvalue()


def test_a_restore_brings_back_the_rows_of_the_backups_time(database):
    data = copy(database)
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO kept VALUES ('after')")
    backup.restore(data)
    assert rows(database) == [("before",)]


def foreign(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE kept (word TEXT)")
    return path.read_bytes()


def newer(data, tmp_path):
    path = tmp_path / "newer.db"
    path.write_bytes(data)
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("DELETE FROM alembic_version")
        connection.execute("INSERT INTO alembic_version VALUES ('ffffffffffff')")
    return path.read_bytes()


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (lambda data, _: b"name,visits\nhome,3\n", "it is not an SQLite database"),
        (lambda data, _: data[: len(data) * 2 // 3], "it is damaged"),
        (lambda _, tmp_path: foreign(tmp_path), "it is not a database of this app"),
        (newer, "it is at migration ffffffffffff, which this release does not have"),
    ],
    ids=["text", "cut-short", "foreign", "newer"],
)
def test_a_file_unfit_is_refused_and_the_database_left_as_it_was(database, tmp_path, bad, why):
    data = copy(database)
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO kept VALUES ('after')")
    with pytest.raises(backup.Refused, match=why):
        backup.restore(bad(data, tmp_path))
    assert rows(database) == [("after",), ("before",)]
