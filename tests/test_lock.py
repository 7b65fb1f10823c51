"""The locked dependencies, one folder per database answer: templates/uv/
<database>/ holds the project's direct dependencies (dependencies.toml, which
the baked pyproject.toml includes) and their lock, uv.lock, which a bake
includes whole with its own name in the project's entry. Every file in the
lock carries its hash (the image installs it with `uv sync --locked`, which
checks them: a tampered hash fails the build), the lock pins what pyproject.toml
names, and the project's own `make lock` changes nothing, so the locks are what
uv makes of pyproject.toml (scripts/lock.py writes them)."""

import itertools
import os
import re
import shutil
import sys
import tomllib
from pathlib import Path

import pytest
from engine import base_image_problem, docker, engine_problem
from helpers import CHOICES, REPO, bake, run, skip_or_fail

LOCKS = REPO / "templates" / "uv"
FILES = ["dependencies.toml", "uv.lock"]
SYNC = "uv sync --project /src --locked --no-dev --no-install-project --no-build"
SHA256 = re.compile(r"sha256:[0-9a-f]{64}")


@pytest.fixture(scope="module", params=CHOICES["database"], ids=lambda d: f"database:{d}")
def database(request):
    return request.param


@pytest.fixture(scope="module")
def locked(database, cookies_session):
    return bake(cookies_session, database=database, deployment="split")


def normal(name):
    """A distribution's name as uv records it (PEP 503), extras and versions dropped."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~; ]", name, maxsplit=1)[0]).lower()


def project_entry(lock):
    """uv.lock's entry of the project itself (its source is the project's folder)."""
    (entry,) = [p for p in lock["package"] if p["source"] == {"virtual": "."}]
    return entry


def test_one_folder_per_database_answer():
    folders = sorted(path.name for path in LOCKS.iterdir())
    assert folders == sorted(CHOICES["database"])
    for folder in folders:
        assert sorted(path.name for path in (LOCKS / folder).iterdir()) == FILES, folder


def test_the_answers_dependencies_differ_only_in_what_they_name():
    """Kept by hand in each folder: the same opening comment, and every answer
    needs at least what the app without a database needs."""

    def opening(text):
        return list(itertools.takewhile(lambda line: line.startswith("#"), text.splitlines()))

    def named(path):
        return set(tomllib.loads(path.read_text())["dependencies"])

    base = LOCKS / CHOICES["database"][0] / "dependencies.toml"
    for database in CHOICES["database"][1:]:
        path = LOCKS / database / "dependencies.toml"
        assert opening(path.read_text()) == opening(base.read_text()), path
        assert named(path) >= named(base), path


def test_the_bake_includes_its_answers_files_whole(database, locked):
    folder = LOCKS / database
    slug = tomllib.loads((locked / "pyproject.toml").read_text())["project"]["name"]
    template = (folder / "uv.lock").read_text()
    assert template.count("{{ cookiecutter.project_slug }}") == 1
    baked = template.replace("{{ cookiecutter.project_slug }}", slug)
    assert (locked / "uv.lock").read_text() == baked
    assert (folder / "dependencies.toml").read_text() in (locked / "pyproject.toml").read_text()


def test_each_lock_pins_what_its_pyproject_names(locked):
    """The project's entry in uv.lock depends on exactly what pyproject.toml
    names, app and dev group: one added to (or dropped from) pyproject.toml
    without `make lock` fails here (and the image's `uv sync --locked`)."""
    project = tomllib.loads((locked / "pyproject.toml").read_text())
    entry = project_entry(tomllib.loads((locked / "uv.lock").read_text()))
    assert entry["name"] == project["project"]["name"]
    app = {normal(name) for name in project["project"]["dependencies"]}
    assert {d["name"] for d in entry["dependencies"]} == app
    assert {"flask", "pyuwsgi"} <= app
    dev = {normal(name) for name in project["dependency-groups"]["dev"]}
    assert {d["name"] for d in entry["dev-dependencies"]["dev"]} == dev


def test_every_file_in_the_lock_has_its_hash(locked):
    """Every wheel and sdist of every package pinned, each with a sha256: uv
    checks them on install. pyuwsgi (uWSGI) comes as wheels for x86_64 and
    aarch64, so the image compiles nothing (its uv sync passes --no-build)."""
    packages = [
        p for p in tomllib.loads((locked / "uv.lock").read_text())["package"]
        if p["source"] != {"virtual": "."}
    ]  # fmt: skip
    assert len(packages) > 20
    for package in packages:
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        assert files, package["name"]
        for file in files:
            assert SHA256.fullmatch(file.get("hash", "")), (package["name"], file)
    (pyuwsgi,) = [p for p in packages if p["name"] == "pyuwsgi"]
    for machine in ("x86_64", "aarch64"):
        assert any(f"manylinux_2_28_{machine}.whl" in w["url"] for w in pyuwsgi["wheels"]), machine
    assert SYNC in (locked / "Dockerfile").read_text()


def test_make_lock_changes_nothing(locked, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(locked, project)
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = run("make", "--no-print-directory", "lock", cwd=project, env=env, check=False)
    if result.returncode != 0:
        skip_or_fail(f"make lock failed (is PyPI reachable?): {result.stderr[-500:]}")
    assert (project / "uv.lock").read_text() == (locked / "uv.lock").read_text()
    assert (project / "pyproject.toml").read_text() == (locked / "pyproject.toml").read_text()


@pytest.mark.docker
def test_a_tampered_hash_fails_the_build(cookies_session, tmp_path):
    """One hash of Flask's files changed in uv.lock: the image's build stops at
    uv sync, which names the mismatch (also with uv's cache holding the file)."""
    problem = engine_problem() or base_image_problem(CHOICES["base_image"][0])
    if problem:
        skip_or_fail(problem)
    project = shutil.copytree(bake(cookies_session, deployment="single"), tmp_path / "project")
    lock = project / "uv.lock"
    text = lock.read_text()
    flask = re.search(r'\[\[package\]\]\nname = "flask"\n.*?\n\n', text, re.S).group(0)
    tampered = SHA256.sub("sha256:" + "0" * 64, flask)
    lock.write_text(text.replace(flask, tampered))
    result = docker("build", "--target", "builder", "--progress", "plain", project, check=False)
    assert result.returncode != 0
    output = result.stderr
    assert "hash mismatch" in output.lower() and "flask" in output, output[-2000:]
