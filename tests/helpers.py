"""What the tests share: the template's answers, running tools, the hooks.

A plain module (conftest.py holds only fixtures and hooks of pytest); every
test module imports from here.
"""

import importlib.util
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from image import IMAGE, IMAGE_SETTINGS  # noqa: F401 (the tests import them from here)

REPO = Path(__file__).resolve().parent.parent
CONTEXT = json.loads((REPO / "cookiecutter.json").read_text())
CHOICES = {
    key: value
    for key, value in CONTEXT.items()
    if isinstance(value, list) and not key.startswith("_")
}
IN_CI = os.environ.get("CI", "").lower() == "true"
# The base image of the Docker tests that run on one base only (and of the first
# base of its suite for those that vary with nginx): the template's default, or
# another answer named by TEST_BASE_IMAGE (e.g. TEST_BASE_IMAGE=python:3.14-slim).
DEFAULT_BASE = os.environ.get("TEST_BASE_IMAGE") or CHOICES["base_image"][0]
if DEFAULT_BASE not in CHOICES["base_image"]:
    sys.exit(f"TEST_BASE_IMAGE: {DEFAULT_BASE!r} is not one of {CHOICES['base_image']}")

# Choices that fill in text only, never choosing a file: each of their answers
# is baked in turn across the combinations of the others instead of
# multiplying them. Each names the files its answers change ("files"), and the
# prompts that choose which of the template's files those are ("with"), whose
# every answer each of its answers is baked with: both fill in a line of the
# Dockerfile, which each deployment has its own of
# (templates/dockerfile/<deployment>.Dockerfile). tests/test_combinations.py
# checks both lists.
TEXT_ONLY = {
    "license": {
        "files": ["Dockerfile", "LICENSE", "README.md", "pyproject.toml"],
        "with": ["deployment"],
    },
    "base_image": {"files": ["Dockerfile"], "with": ["deployment"]},
}


# A choice whose answers but the first are baked with each answer of the
# choices it shapes files with, the others taking turns (not multiplying).
APART = {"database": ["deployment", "https"], "worker": ["deployment", "database"]}


def refused(answers):
    """The pre-generation hook's refusals of these answers (none: baked)."""
    hook = load_hook("pre_gen_project")
    return [message for clash in hook.CLASHES if (message := clash(answers))]


def combinations():
    """Every combination of the choice prompts that shape the project, as
    extra_context dicts; the TEXT_ONLY prompts' answers take turns, and the
    APART ones are combined with the prompts named there only (the other
    APART prompts keeping their first answer). Combinations the
    pre-generation hook refuses are left out.

    A TEXT_ONLY prompt's turn is the bake's place in the list: the bakes of
    each deployment without an APART answer come one after another (the
    deployment is the first prompt that varies), more of them than any
    TEXT_ONLY prompt has answers, so each of its answers meets each deployment."""
    keys = [key for key in CHOICES if key not in TEXT_ONLY]
    apart = {key: CHOICES[key][0] for key in APART}
    shaped = [
        {**dict(zip([k for k in keys if k not in APART], values, strict=True)), **apart}
        for values in itertools.product(*(CHOICES[k] for k in keys if k not in APART))
    ]
    for key, partners in APART.items():
        for answer in CHOICES[key][1:]:
            for i, values in enumerate(itertools.product(*map(CHOICES.get, partners))):
                turns = {k: CHOICES[k][i % len(CHOICES[k])] for k in keys if k not in APART}
                given = dict(zip(partners, values, strict=True))
                shaped.append({**apart, **turns, **given, key: answer})
    in_turn = [
        {**answers, **{key: CHOICES[key][i % len(CHOICES[key])] for key in TEXT_ONLY}}
        for i, answers in enumerate(shaped)
    ]
    return [{key: answers[key] for key in CHOICES} for answers in in_turn if not refused(answers)]


def combination_id(answers):
    return "-".join(f"{key}:{value}" for key, value in answers.items())


@dataclass(frozen=True)
class Bake:
    """A baked project and the answers it was baked from."""

    answers: dict
    project: Path

    @property
    def name(self):
        return combination_id(self.answers)


def skip_or_fail(reason):
    """Outside CI a missing prerequisite skips loudly; in CI it is a failure."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def tool(name):
    """Path of a command-line tool: this interpreter's environment first, then PATH.

    /usr/sbin is searched too: Debian's nginx lives there, outside a user's PATH.
    """
    search = [str(Path(sys.executable).parent), os.environ["PATH"], "/usr/sbin"]
    path = shutil.which(name, path=os.pathsep.join(search))
    if path is None:
        skip_or_fail(f"{name} is not installed (scripts/test.sh installs it)")
    return path


def run(*args, check=True, env=None, text=True, **kwargs):
    """Run a command, capturing its output; with check, fail showing that output.

    env is added to this process's environment rather than replacing it.
    """
    result = subprocess.run(
        [str(arg) for arg in args],
        check=False,
        capture_output=True,
        text=text,
        env={**os.environ, **(env or {})},
        **kwargs,
    )
    if check:
        assert result.returncode == 0, (
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def script_defaults(project):
    """{setting: default} that the image's scripts give themselves, written
    `: "${NAME:=default}"`, by the file (relative to the project) that gives them."""
    found = {}
    for path in sorted((project / "docker").rglob("*")):
        if path.is_file():
            pairs = re.findall(r"\$\{([A-Z][A-Z0-9_]*):=([^}]*)\}", path.read_text())
            if pairs:
                found[str(path.relative_to(project))] = dict(pairs)
    return found


def make_certificate(folder, host="localhost"):
    """A self-signed certificate and key as folder/tls.crt and folder/tls.key,
    the names the baked project mounts; valid for host and 127.0.0.1."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "tls.crt", folder / "tls.key"
    run(
        tool("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", f"/CN={host}",
        "-addext", f"subjectAltName=DNS:{host},IP:127.0.0.1",
        "-keyout", key, "-out", cert,
    )  # fmt: skip
    key.chmod(0o644)  # nginx reads it as the image's uid in the container
    return cert


# Prefix of every container, image, volume and compose project a run makes:
# runs that share an engine (a developer's and CI's) never touch each other's.
# Short: swarm refuses network names over 63 characters ("<stack>_default").
RUN_PREFIX = f"fd{os.getpid() % 10000:04d}"


# The caps of each container's log (compose, the stack file, install.sh), by
# default: files of 10m, the 5 newest kept.
LOG_CAPS = {"LOG_MAX_SIZE": "10m", "LOG_MAX_FILES": "5"}
# The same defaults as Docker's json-file log options.
LOG_OPTIONS = {"max-size": LOG_CAPS["LOG_MAX_SIZE"], "max-file": LOG_CAPS["LOG_MAX_FILES"]}


def bake(cookies, **answers):
    """The folder of a project baked (with pytest-cookies) from these answers."""
    result = cookies.bake(extra_context=answers)
    assert result.exit_code == 0, result.exception
    return result.project_path


def actionlint(workflow):
    """actionlint on a GitHub workflow: expressions, runner labels, the actions'
    inputs and runtimes, and shellcheck on each run step."""
    env = {"PATH": f"{Path(tool('shellcheck')).parent}{os.pathsep}{os.environ['PATH']}"}
    return run(tool("actionlint"), "-no-color", workflow, env=env, check=False)


def load_hook(name):
    """One of the template's hooks as a module (main(), which holds Jinja, is not run)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BAKED = pytest.StashKey[set]()
# Docker variant ("base/deployment") -> None when built, else why it was skipped.
BUILDS = pytest.StashKey[dict]()


def summary_lines(baked, builds):
    """The run's closing lines: how many combinations were baked and variants built."""
    lines = [f"baked {len(baked)}/{len(combinations())} combinations"]
    if builds:
        skipped = {}
        for variant, reason in builds.items():
            if reason:
                skipped.setdefault(reason, []).append(variant)
        built = len(builds) - sum(map(len, skipped.values()))
        why = "; ".join(f"{', '.join(names)}: {reason}" for reason, names in skipped.items())
        lines.append(f"built {built}/{len(builds)} variants (skipped: {why or 'none'})")
    return lines
