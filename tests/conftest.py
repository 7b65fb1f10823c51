"""Shared fixtures: the matrix of answers, one bake per combination, tools."""

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONTEXT = json.loads((REPO / "cookiecutter.json").read_text())
CHOICES = {key: value for key, value in CONTEXT.items() if isinstance(value, list)}
IN_CI = os.environ.get("CI", "").lower() == "true"


def combinations():
    """Every combination of the choice prompts, as extra_context dicts."""
    keys = list(CHOICES)
    return [dict(zip(keys, values)) for values in itertools.product(*CHOICES.values())]


def combination_id(answers):
    return "-".join(f"{key}:{value}" for key, value in answers.items())


def skip_or_fail(reason):
    """Outside CI a missing prerequisite skips loudly; in CI it is a failure."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def tool(name):
    """Path of a command-line tool, preferring this interpreter's environment."""
    path = shutil.which(name, path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if path is None:
        skip_or_fail(f"{name} is not installed (scripts/test.sh installs it)")
    return path


def run(*args, cwd=None, check=True, **kwargs):
    """Run a command; on failure show its output in the assertion."""
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, **kwargs)
    if check:
        assert result.returncode == 0, (
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def pytest_configure(config):
    config.option.template = str(REPO)
    config.stash[BAKED] = set()


BAKED = pytest.StashKey[set]()


@pytest.fixture(scope="session", params=combinations(), ids=combination_id)
def baked(request, cookies_session):
    """One bake per combination, shared by every test of that combination."""
    result = cookies_session.bake(extra_context=request.param)
    assert result.exit_code == 0, result.exception
    request.config.stash[BAKED].add(combination_id(request.param))
    return request.param, result.project_path


def pytest_terminal_summary(terminalreporter, config):
    baked = len(config.stash[BAKED])
    terminalreporter.write_line(f"baked {baked}/{len(combinations())} combinations")
