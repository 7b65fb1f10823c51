"""The baked CI files (GitHub Actions, GitLab CI): the jobs they hold.

Each CI file is read as YAML and must hold the steps the project promises.
(The schemas are checked for every combination in test_bake.py; the steps
are run in test_ci_steps.py, test_smoke_test.py and test_publish.py.)
"""

import os
import re

import pytest
import yaml
from baked_ci import PINNED_ACTION, PLATFORMS, commands, github_job, gitlab_job
from helpers import CHOICES, CONTEXT, run, tool

LINT_AND_TEST = [
    "pip install --require-hashes -r docker/uv-requirements.txt",
    "uv venv && uv pip sync --require-hashes requirements-dev.txt",
    "uv run --no-project make check",
]


def test_lint_and_test_job_runs_make_check(ci_project):
    platform, _, _, config = ci_project
    assert commands(platform, config, "lint-and-test") == LINT_AND_TEST


def test_shellcheck_step_covers_every_script(ci_project):
    _, _, project, _ = ci_project
    makefile = (project / "Makefile").read_text()
    [step] = [line.strip() for line in makefile.splitlines() if "\tfind " in line]
    # The same find, printing the files it would hand to shellcheck.
    listing = run("bash", "-c", step.replace("-exec shellcheck {} +", "-print"), cwd=project)
    checked = {os.path.normpath(path) for path in listing.stdout.split()}
    scripts = {str(p.relative_to(project)) for p in project.rglob("*.*sh")}
    assert scripts and checked == scripts


def test_docker_job_smoke_tests_a_running_deployment(ci_project):
    platform, deployment, project, config = ci_project
    script = commands(platform, config, "docker")
    if platform == "github":
        job = github_job(config, "docker")
        assert job["needs"] == "lint-and-test"
        cleanup = [step["run"] for step in job["steps"] if step.get("if") == "always()"]
        smoke = "scripts/smoke-test.sh"
    else:
        job = gitlab_job(config, "docker")
        stages = config["stages"]
        assert stages.index(job["stage"]) > stages.index(config["lint-and-test"]["stage"])
        cleanup = job["after_script"]
        # Published ports are on the docker-in-docker service.
        smoke = f"scripts/smoke-test.sh http://docker:{CONTEXT['host_port']}"
    # make up: install.sh or docker compose, as the Makefile says.
    start = "make up"
    stop = "make down" if deployment == "single" else "docker compose down --volumes"
    up = run("make", "--dry-run", "up", cwd=project).stdout
    if deployment == "single":
        assert up == "./install.sh\n"
        install = (project / "install.sh").read_text()
        assert "docker build" in install and "docker run" in install
    else:
        assert up == "scripts/deploy.sh\n"
        deploy = (project / "scripts" / "deploy.sh").read_text()
        assert "docker compose build" in deploy and "docker compose up --detach --wait" in deploy
    assert script[script.index(smoke) - 1] == start
    assert stop in cleanup
    # Then the image scan, whose SBOMs are kept even when it fails.
    assert script[script.index(smoke) + 1] == "make scan"
    if platform == "github":
        [upload] = [step for step in job["steps"] if "upload-artifact" in step.get("uses", "")]
        assert upload["with"]["path"] == "sbom/" and upload["if"] == "success() || failure()"
    else:
        assert job["artifacts"] == {"when": "always", "paths": ["sbom/"]}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("deployment", CHOICES["deployment"])
def test_docker_job_with_https_smoke_tests_over_https(cookies_session, platform, deployment):
    answers = {"ci": platform, "deployment": deployment, "https": "provided"}
    result = cookies_session.bake(extra_context=answers)
    assert result.exit_code == 0, result.exception
    config = yaml.safe_load((result.project_path / PLATFORMS[platform]).read_text())
    script = commands(platform, config, "docker")
    https_port = "8443"  # HTTPS_PORT's default
    if platform == "github":
        make, smoke = "scripts/self-signed-cert.sh", "scripts/smoke-test.sh"
    else:  # the certificate must be valid for the docker-in-docker service's name
        make, smoke = (
            "scripts/self-signed-cert.sh docker",
            f"scripts/smoke-test.sh https://docker:{https_port}",
        )
        assert "openssl" in config[".docker"]["before_script"][0]
    assert script.index(make) < script.index(smoke)
    smoke_script = (result.project_path / "scripts" / "smoke-test.sh").read_text()
    assert f"https://localhost:${{HTTPS_PORT:-{https_port}}}" in smoke_script


@pytest.mark.parametrize("platform", PLATFORMS)
def test_docker_job_of_an_acme_bake_asks_no_ca(cookies_session, platform):
    """No ACME CA reaches CI: the job names a domain and a CA that cannot
    exist (.invalid) before the deployment starts, and the smoke test accepts
    the temporary certificate the site serves meanwhile."""
    answers = {"ci": platform, "deployment": "single", "https": "acme"}
    result = cookies_session.bake(extra_context=answers)
    assert result.exit_code == 0, result.exception
    config = yaml.safe_load((result.project_path / PLATFORMS[platform]).read_text())
    script = commands(platform, config, "docker")
    [settings] = [command for command in script if "ACME_DOMAINS=" in command]
    assert settings.endswith(">>.env") and ".invalid" in settings
    assert "scripts/self-signed-cert.sh" not in " ".join(script)
    [smoke] = [command for command in script if command.startswith("scripts/smoke-test.sh")]
    assert smoke.split()[1] == "--insecure"
    assert script.index(settings) < script.index("make up") < script.index(smoke)


def test_publish_job_runs_only_for_pushes_to_main_or_v_tags(ci_project):
    platform, _, _, config = ci_project
    if platform == "github":
        # `on` is YAML 1.1's true.
        triggers = config.get("on", config.get(True))
        assert triggers["push"] == {"branches": ["main"], "tags": ["v*"]}
        assert "pull_request" in triggers
        job = github_job(config, "publish")
        assert job["needs"] == "docker"
        assert job["if"] == "github.event_name == 'push' && vars.REGISTRY != ''"
        assert job["permissions"] == {"contents": "read", "packages": "write"}
        assert job["env"] == {
            "REGISTRY": "${{ vars.REGISTRY }}",
            "PLATFORMS": "${{ vars.PLATFORMS || 'linux/amd64' }}",
        }
    else:
        job = gitlab_job(config, "publish")
        assert config["stages"][-2:] == ["docker", "publish"] and job["stage"] == "publish"
        assert [rule["if"] for rule in job["rules"]] == [
            '$CI_REGISTRY_IMAGE && $CI_COMMIT_BRANCH == "main"',
            "$CI_REGISTRY_IMAGE && $CI_COMMIT_TAG =~ /^v/",
        ]
    script = commands(platform, config, "publish")
    assert "docker login" in script[-2] and "--password-stdin" in script[-2]
    assert script[-1].startswith("scripts/publish.sh ")


def test_publish_job_registers_qemu_for_other_platforms(ci_project):
    """PLATFORMS is linux/amd64 unless a repository or project variable says
    otherwise (GitHub's job env: above); for others, QEMU is registered before
    publishing. (The publish tests below run GitLab's command, both ways.)"""
    platform, _, _, config = ci_project
    if platform == "github":
        steps = github_job(config, "publish")["steps"]
        [qemu] = [step for step in steps if "setup-qemu-action" in step.get("uses", "")]
        assert qemu == {
            "if": "env.PLATFORMS != 'linux/amd64'",
            "uses": "docker/setup-qemu-action@v4",
        }
        [publish] = [step for step in steps if "scripts/publish.sh" in step.get("run", "")]
        assert steps.index(qemu) < steps.index(publish)
    else:
        job = gitlab_job(config, "publish")
        # Merged with .docker's: both variables.
        assert job["variables"] == {"DOCKER_TLS_CERTDIR": "/certs", "PLATFORMS": "linux/amd64"}
        assert job["script"][0] == (
            'if [ "$PLATFORMS" != linux/amd64 ]; then'
            " docker run --rm --privileged tonistiigi/binfmt --install all; fi"
        )


def test_jobs_are_hardened(ci_project):
    """Every job has a timeout; GitHub's actions are pinned, nothing is spliced
    into a shell, and only publish may write (packages); GitLab's renovate job
    runs from its schedule only."""
    platform, _, _, config = ci_project
    if platform == "gitlab":
        jobs = {
            name: gitlab_job(config, name)
            for name, job in config.items()
            if isinstance(job, dict) and not name.startswith(".")
        }
        assert set(jobs) == {"lint-and-test", "docker", "publish", "renovate"}
        for name, job in jobs.items():
            assert re.fullmatch(r"\d+ minutes", job["timeout"]), name
        # Renovate runs from a pipeline schedule that asks for it, never otherwise.
        [rule] = jobs["renovate"]["rules"]
        assert rule == {"if": '$CI_PIPELINE_SOURCE == "schedule" && $RENOVATE == "true"'}
        return
    assert set(config["jobs"]) == {"lint-and-test", "docker", "publish"}
    # Read-only for all; only publish may write, and only packages.
    assert config["permissions"] == {"contents": "read"}
    for name, job in config["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 30, name
        assert name == "publish" or "permissions" not in job, name
        for step in job["steps"]:
            # Actions pinned by major version; no ${{ }} spliced into a shell.
            if "uses" in step:
                assert re.fullmatch(PINNED_ACTION, step["uses"]), step
            if "run" in step:
                assert "${{" not in step["run"], step


def all_commands(platform, config):
    """Every shell command of a CI file, GitLab's before_ and after_scripts too."""
    if platform == "github":
        return [s["run"] for job in config["jobs"].values() for s in job["steps"] if "run" in s]
    return [
        command
        for job in config.values()
        if isinstance(job, dict)
        for part in ("before_script", "script", "after_script")
        for command in job.get(part, [])
    ]


def test_ci_commands_pass_shellcheck(ci_project, tmp_path):
    platform, _, _, config = ci_project
    dialect = "bash" if platform == "github" else "sh"
    script = tmp_path / "commands"
    script.write_text("\n".join(all_commands(platform, config)) + "\n")
    run(tool("shellcheck"), "--shell", dialect, script)
