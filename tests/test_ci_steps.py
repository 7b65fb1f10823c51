"""The baked lint-and-test job, run here as CI runs it: its commands on a
baked copy, and GitLab's job under gitlab-ci-local."""

import os
import shutil

from baked_ci import ci_env, commands, shell
from helpers import bake, run, skip_or_fail, tool


def test_lint_and_test_steps_pass(ci_project, tmp_path):
    """Each lint-and-test command, as written in the CI file, in a baked copy."""
    platform, _, project, config = ci_project
    copy = shutil.copytree(project, tmp_path / "project")
    # pip may only confirm that this environment already has the pinned uv:
    # no index, and --dry-run so that nothing here is ever changed. uv then
    # makes the copy's .venv from requirements-dev.txt (PyPI, or uv's cache) and
    # make check runs in it.
    env = ci_env(PIP_NO_INDEX="1", PIP_DRY_RUN="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    for command in commands(platform, config, "lint-and-test"):
        result = run(*shell(platform), command, cwd=copy, env=env)
        assert "Would install" not in result.stdout, (command, result.stdout)


def test_gitlab_lint_and_test_job_runs_here(cookies_session, tmp_path):
    """The baked .gitlab-ci.yml's lint-and-test job, run by gitlab-ci-local in
    this machine's shell (pip installs uv, hashes checked, into a fresh
    virtualenv; uv installs requirements-dev.txt into the project's .venv): it passes, and
    fails once a test fails."""
    if not shutil.which(tool("gitlab-ci-local")):
        skip_or_fail("gitlab-ci-local is not installed (scripts/test.sh installs it with npm)")
    baked = bake(cookies_session, ci="gitlab", project_name="ci local")
    project = shutil.copytree(baked, tmp_path / "project")
    run("python3", "-m", "venv", tmp_path / "venv")
    env = {"PATH": f"{tmp_path / 'venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    git = ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.com"]

    def job():
        run(*git, "add", "--all", cwd=project)
        run(*git, "commit", "--quiet", "--message", "state", cwd=project)
        return run(tool("gitlab-ci-local"), "--force-shell-executor", "lint-and-test",
                   cwd=project, env=env, check=False, timeout=900)  # fmt: skip

    run("git", "init", "--quiet", cwd=project)
    passed = job()
    assert passed.returncode == 0 and "PASS  lint-and-test" in passed.stdout, passed.stdout
    with (project / "tests" / "test_app.py").open("a") as tests:
        tests.write("\n\ndef test_that_fails():\n    assert 1 + 1 == 3\n")
    failed = job()
    assert failed.returncode != 0 and "FAIL  lint-and-test" in failed.stdout
    assert "1 failed" in failed.stdout
