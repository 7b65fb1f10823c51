"""The baked projects' CI files, read: what test_ci_jobs, test_ci_steps,
test_smoke_test and test_publish share (a pytest plugin: conftest.py loads it,
so its fixtures serve every module)."""

import itertools
import os
import sys
from pathlib import Path

import pytest
import yaml
from helpers import CHOICES

PLATFORMS = {"github": ".github/workflows/ci.yml", "gitlab": ".gitlab-ci.yml"}
DEPLOYMENTS = CHOICES["deployment"]
# The actions CI may use: GitHub's and Docker's, pinned by major version.
PINNED_ACTION = r"(actions|docker)/[\w-]+@v\d+"


# Session-wide: each module that reads a bake reads the same one (none writes
# into it), baked once per run.
@pytest.fixture(
    scope="session",
    params=list(itertools.product(PLATFORMS, DEPLOYMENTS)),
    ids=lambda param: f"ci:{param[0]}-deployment:{param[1]}",
)
def ci_project(request, cookies_session):
    """(platform, deployment, project folder, parsed CI file)."""
    platform, deployment = request.param
    result = cookies_session.bake(extra_context={"ci": platform, "deployment": deployment})
    assert result.exit_code == 0, result.exception
    project = result.project_path
    config = yaml.safe_load((project / PLATFORMS[platform]).read_text())
    return platform, deployment, project, config


def github_job(config, name):
    return config["jobs"][name]


def gitlab_job(config, name):
    """A GitLab job with `extends` merged in (one level, as the template uses):
    as GitLab merges them, mappings such as `variables` key by key."""
    job = dict(config[name])
    parent = config.get(job.pop("extends", None), {})
    merged = {
        key: {**parent[key], **value}
        for key, value in job.items()
        if isinstance(value, dict) and isinstance(parent.get(key), dict)
    }
    return {**parent, **job, **merged}


def commands(platform, config, job):
    """The shell commands of a job, in order: GitHub's run steps, GitLab's script."""
    if platform == "github":
        return [step["run"] for step in github_job(config, job)["steps"] if "run" in step]
    return list(gitlab_job(config, job)["script"])


def ci_env(*first, **extra):
    """The environment CI steps run in here: `first` folders, then this
    interpreter's (where pip installed the tools), then PATH."""
    path = [*map(str, first), str(Path(sys.executable).parent), os.environ["PATH"]]
    return {"PATH": os.pathsep.join(path), **extra}


def shell(platform):
    # GitHub runs `run` with bash -e; GitLab's python and docker images with sh.
    return ["bash", "-e", "-o", "pipefail", "-c"] if platform == "github" else ["sh", "-e", "-c"]


@pytest.fixture(scope="session")
def github_single(cookies_session):
    result = cookies_session.bake(extra_context={"ci": "github", "deployment": "single"})
    assert result.exit_code == 0, result.exception
    return result.project_path
