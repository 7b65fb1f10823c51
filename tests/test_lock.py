"""The locked dependencies: every pin of a baked project carries its hashes
(the image installs with --require-hashes), and the project's own `make lock`
changes nothing, so the template's requirements*.txt are what pip-compile
makes of requirements*.in (scripts/lock-requirements.py writes them)."""

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from helpers import CHOICES, bake, run, skip_or_fail

LOCKS = ["requirements.txt", "requirements-dev.txt"]
PIN = re.compile(
    r"^([A-Za-z0-9._-]+)==\S+ \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", re.M
)


@pytest.fixture(scope="module", params=CHOICES["database"], ids=lambda d: f"database:{d}")
def locked(request, cookies_session):
    return bake(cookies_session, database=request.param, deployment="split")


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
