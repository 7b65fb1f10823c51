"""The locked dependencies, one folder per database answer: templates/requirements/
<database>/ holds the project's requirements*.in and their locks, and a bake
includes that folder's files whole. Every pin carries its hashes (the image
installs with --require-hashes), each lock pins what its .in names, and the
project's own `make lock` changes nothing, so the locks are what pip-compile
makes of the .in files (scripts/lock-requirements.py writes them)."""

import itertools
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from helpers import CHOICES, REPO, bake, run, skip_or_fail

REQUIREMENTS = REPO / "templates" / "requirements"
SOURCES = {"requirements.txt": "requirements.in", "requirements-dev.txt": "requirements-dev.in"}
LOCKS = list(SOURCES)
PIN = re.compile(
    r"^([A-Za-z0-9._-]+)==\S+ \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", re.M
)
# A pin and its "# via" lines, up to the next pin or comment at the margin.
ENTRY = re.compile(r"^([A-Za-z0-9._-]+)==.*?(?=^[A-Za-z0-9#]|\Z)", re.M | re.S)


@pytest.fixture(scope="module", params=CHOICES["database"], ids=lambda d: f"database:{d}")
def database(request):
    return request.param


@pytest.fixture(scope="module")
def locked(database, cookies_session):
    return bake(cookies_session, database=database, deployment="split")


def normal(name):
    """A distribution's name as pip compares it (PEP 503), extras dropped."""
    return re.sub(r"[-_.]+", "-", name.split("[", 1)[0]).lower()


def test_one_folder_per_database_answer():
    folders = sorted(path.name for path in REQUIREMENTS.iterdir())
    assert folders == sorted(CHOICES["database"])
    for folder in folders:
        files = sorted(path.name for path in (REQUIREMENTS / folder).iterdir())
        assert files == sorted([*SOURCES, *SOURCES.values()]), folder


def requirements(path):
    """The names a .in lists (its options and comments left out)."""
    lines = path.read_text().splitlines()
    return {normal(line.strip()) for line in lines if line.strip() and line[0] not in "#-"}


@pytest.mark.parametrize("source", SOURCES.values())
def test_the_answers_sources_differ_only_in_requirements(source):
    """Kept by hand in each folder: the same opening comment and options, and
    every answer needs at least what the app without a database needs."""

    def opening(text):
        return list(itertools.takewhile(lambda line: line[:1] in "#-", text.splitlines()))

    base = REQUIREMENTS / CHOICES["database"][0] / source
    for database in CHOICES["database"][1:]:
        path = REQUIREMENTS / database / source
        assert opening(path.read_text()) == opening(base.read_text()), path
        assert requirements(path) >= requirements(base), path


def test_each_lock_pins_what_its_in_names(database):
    """The pins "via -r" the .in are exactly the requirements it names: a
    requirement added to (or dropped from) a .in without `make lock` fails here."""
    folder = REQUIREMENTS / database
    for lock, source in SOURCES.items():
        named = requirements(folder / source)
        entries = {
            normal(m.group(1)): m.group(0) for m in ENTRY.finditer((folder / lock).read_text())
        }
        direct = {name for name, entry in entries.items() if f"-r {source}\n" in entry}
        assert direct == named, f"{database}/{lock}"


def test_the_bake_includes_its_answers_files_whole(database, locked):
    for name in [*SOURCES, *SOURCES.values()]:
        assert (locked / name).read_bytes() == (REQUIREMENTS / database / name).read_bytes(), name


def test_every_pin_has_its_hashes(locked):
    for name in LOCKS:
        text = (locked / name).read_text()
        requirements = [line for line in text.splitlines() if re.match(r"[A-Za-z0-9]", line)]
        pins = PIN.findall(text)
        assert len(pins) == len(requirements) > 5, name
    image = {name.lower() for name, _ in PIN.findall((locked / "requirements.txt").read_text())}
    assert {"flask", "uwsgi"} <= image
    assert "--require-hashes -r /tmp/requirements.txt" in (locked / "Dockerfile").read_text()


def test_make_lock_changes_nothing(locked, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(locked, project)
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = run("make", "--no-print-directory", "lock", cwd=project, env=env, check=False)
    if result.returncode != 0:
        skip_or_fail(f"make lock failed (is PyPI reachable?): {result.stderr[-500:]}")
    for name in LOCKS:
        assert (project / name).read_text() == (locked / name).read_text(), name
