"""The locked dependencies, one folder per answers to database and worker:
templates/requirements/<database>[-celery]/ holds the project's
requirements*.in and their locks, and a bake includes that folder's files
whole. Every pin carries its hashes (the image installs with uv and --require-hashes:
a tampered hash fails the build, also where the builder kept the
package from an earlier build), each lock pins what its .in names, and the
project's own `make lock` changes nothing, so the locks are what uv pip compile
makes of the .in files (scripts/lock-requirements.py writes them). Dependabot
and Renovate update a lock by running the command its first lines name: only
options both know."""

import ast
import itertools
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from engine import base_image_problem, docker, engine_problem
from helpers import CHOICES, REPO, RUN_PREFIX, bake, run, skip_or_fail

REQUIREMENTS = REPO / "templates" / "requirements"
SOURCES = {"requirements.txt": "requirements.in", "requirements-dev.txt": "requirements-dev.in"}
LOCKS = list(SOURCES)
# uv, which locks and installs the above: a lock of its own, the same in every bake.
UV = {"docker/uv-requirements.txt": "docker/uv-requirements.in"}
# A pin (with the markers of a universal lock, e.g. "; sys_platform == 'win32'")
# and its hashes.
PIN = re.compile(
    r"^([A-Za-z0-9._-]+)==\S+(?: ; [^\\\n]+)? \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)",
    re.M,
)
# What the Makefile's LOCK passes. Renovate's pip-compile manager refuses a
# uv lock whose command has an option outside its list (lib/modules/manager/
# pip-compile/common.ts: --universal, --generate-hashes, --python-version=...,
# an option's value after "="); Dependabot's uv ecosystem reads --universal,
# --python-version and the hashes back from the lock (compile_file_updater.rb).
OPTIONS = "--universal --python-version=3.11 --generate-hashes"
# A pin and its "# via" lines, up to the next pin or comment at the margin.
ENTRY = re.compile(r"^([A-Za-z0-9._-]+)==.*?(?=^[A-Za-z0-9#]|\Z)", re.M | re.S)


# {folder: the answers whose requirements it holds}, as scripts/lock-requirements.py has it.
FOLDERS = {
    f"{database}{'' if worker == 'none' else '-' + worker}": {
        "database": database,
        "worker": worker,
    }
    for database in CHOICES["database"]
    for worker in CHOICES["worker"]
}


@pytest.fixture(scope="module", params=list(FOLDERS), ids=lambda f: f"requirements:{f}")
def folder_name(request):
    return request.param


@pytest.fixture(scope="module")
def locked(folder_name, cookies_session):
    return bake(cookies_session, **FOLDERS[folder_name], deployment="split")


def normal(name):
    """A distribution's name as pip compares it (PEP 503), extras dropped."""
    return re.sub(r"[-_.]+", "-", name.split("[", 1)[0]).lower()


def test_one_folder_per_database_and_worker_answer():
    folders = sorted(path.name for path in REQUIREMENTS.iterdir())
    assert folders == sorted(FOLDERS)
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
    for folder in list(FOLDERS)[1:]:
        path = REQUIREMENTS / folder / source
        assert opening(path.read_text()) == opening(base.read_text()), path
        assert requirements(path) >= requirements(base), path


def test_each_lock_pins_what_its_in_names(folder_name):
    """The pins "via -r" the .in are exactly the requirements it names: a
    requirement added to (or dropped from) a .in without `make lock` fails here."""
    folder = REQUIREMENTS / folder_name
    for lock, source in SOURCES.items():
        named = requirements(folder / source)
        entries = {
            normal(m.group(1)): m.group(0) for m in ENTRY.finditer((folder / lock).read_text())
        }
        direct = {name for name, entry in entries.items() if f"-r {source}\n" in entry}
        assert direct == named, f"{folder_name}/{lock}"


def test_the_bake_includes_its_answers_files_whole(folder_name, locked):
    for name in [*SOURCES, *SOURCES.values()]:
        assert (locked / name).read_bytes() == (REQUIREMENTS / folder_name / name).read_bytes(), (
            name
        )


def test_every_pin_has_its_hashes(locked):
    for name in [*LOCKS, *UV]:
        text = (locked / name).read_text()
        requirements = [line for line in text.splitlines() if re.match(r"[A-Za-z0-9]", line)]
        pins = PIN.findall(text)
        assert len(pins) == len(requirements) >= (1 if name in UV else 5), name
    image = {name.lower() for name, _ in PIN.findall((locked / "requirements.txt").read_text())}
    assert {"flask", "pyuwsgi"} <= image
    install = 'uv pip sync --python "$venv/bin/python" --require-hashes --no-build'
    assert install in (locked / "docker" / "sync-venv.sh").read_text()
    run_step = "sh /tmp/sync-venv.sh /tmp/requirements.txt /opt/image-venv"
    assert run_step in (locked / "Dockerfile").read_text()


def test_each_lock_names_the_command_the_update_bots_run(locked):
    """Each lock starts with the command that wrote it, as Dependabot and
    Renovate read it back: uv pip compile with the Makefile's options, the
    output named with "=", the source beside it."""
    assert f"LOCK = uv pip compile --quiet {OPTIONS}\n" in (locked / "Makefile").read_text()
    for lock, source in {**SOURCES, **UV}.items():
        lock, source = Path(lock), Path(source)
        command = f"uv pip compile {OPTIONS} --output-file={lock.name} {source.name}"
        header = (locked / lock).read_text().splitlines()[:2]
        assert header == ["# This file was autogenerated by uv via the following command:",
                          f"#    {command}"], lock  # fmt: skip


def test_make_lock_changes_nothing(locked, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(locked, project)
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = run("make", "--no-print-directory", "lock", cwd=project, env=env, check=False)
    if result.returncode != 0:
        skip_or_fail(f"make lock failed (is PyPI reachable?): {result.stderr[-500:]}")
    for name in [*LOCKS, *UV]:
        assert (project / name).read_text() == (locked / name).read_text(), name


SIX = """six==1.17.0 \\
    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274 \\
    --hash=sha256:ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81
"""


def normalized(name):
    """A distribution's name as PEP 503 compares them: the lock's
    prometheus-client is installed as prometheus_client."""
    return re.sub(r"[-_.]+", "-", name).lower()


# What docker/sync-venv.sh writes down in the kept virtualenv, not in the image's.
RECORDS = {".lock", ".made-for"}


@pytest.mark.docker
def test_the_kept_virtualenv_is_the_locks(cookies_session, tmp_path):
    """The builder keeps its virtualenv between builds (a cache mount) and
    docker/sync-venv.sh syncs each lock into it. A package the lock adds is
    installed with its byte-code; once the lock drops it, it is gone and the
    virtualenv holds exactly the lock's packages, without the script's own
    records. A pin whose hashes changed is installed again, so flask, in the
    kept virtualenv at the same version, fails the build with a tampered hash.
    Each lock gets a comment of this run's own, so that its step runs rather
    than coming from the layer cache (comments are not pins)."""
    problem = engine_problem() or base_image_problem(CHOICES["base_image"][0])
    if problem:
        skip_or_fail(problem)
    project = shutil.copytree(bake(cookies_session, deployment="single"), tmp_path / "project")
    lock = project / "requirements.txt"
    locked = lock.read_text()
    image = f"{RUN_PREFIX}-venv"
    listing = "; ".join([
        "import importlib.metadata as m, pathlib",
        "print(sorted(d.metadata['Name'].lower() for d in m.distributions()))",
        "print(sorted(p.name for p in pathlib.Path('/opt/image-venv').glob('.*')))",
    ])  # fmt: skip

    def build(text, *args):
        lock.write_text(f"{text}# {RUN_PREFIX} {time.time_ns()}\n")
        return docker("build", "--target", "builder", "--progress", "plain", *args, project,
                      check=False)  # fmt: skip

    def venv():
        python = "/opt/image-venv/bin/python"
        out = docker("run", "--rm", "--entrypoint", python, image, "-c", listing).stdout
        return [ast.literal_eval(line) for line in out.splitlines()]  # two lists of names

    first = ""  # the first build's image, which the second takes the tag from
    try:
        assert build(locked + SIX, "--tag", image).returncode == 0
        first = docker("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
        names, records = venv()
        assert "six" in names and not RECORDS & set(records)
        six = docker("run", "--rm", image, "find", "/opt/image-venv", "-name", "six.*.pyc").stdout
        assert six.strip(), "six has no byte-code"

        assert build(locked, "--tag", image).returncode == 0
        names, records = venv()
        pinned = [normalized(name) for name, _ in PIN.findall(locked)]
        assert sorted(map(normalized, names)) == sorted(pinned)
        assert not RECORDS & set(records)
    finally:
        docker("image", "rm", "--force", image, *filter(None, [first]), check=False)

    flask = re.search(r"^flask==.*?(?=^\S)", locked, re.M | re.S).group(0)
    tampered = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, flask)
    result = build(locked.replace(flask, tampered))
    assert result.returncode != 0
    output = result.stderr
    assert "hash mismatch" in output.lower() and "flask" in output, output[-2000:]
