"""CI files: the baked projects' (GitHub Actions, GitLab CI) and the template's own.

Each CI file is read as YAML and must hold the steps the project promises. The
steps that need no Docker engine are run here as CI runs them: the lint and
test commands on a baked copy, scripts/smoke-test.sh against a local HTTP
server, and the publish commands with `docker` replaced by a recorder. (The
schemas are checked for every combination in test_bake.py.)
"""

import http.server
import itertools
import os
import re
import shutil
import ssl
import sys
import threading
from pathlib import Path

import pytest
import yaml
from helpers import (
    CHOICES,
    CONTEXT,
    REPO,
    actionlint,
    bake,
    make_certificate,
    run,
    skip_or_fail,
    summary_lines,
    tool,
)

PLATFORMS = {"github": ".github/workflows/ci.yml", "gitlab": ".gitlab-ci.yml"}
DEPLOYMENTS = CHOICES["deployment"]
LINT_AND_TEST = ["pip install -r requirements-dev.txt", "make check"]
SHA = "0123456789abcdef0123456789abcdef01234567"
REGISTRY = "localhost:5000"  # never contacted: docker is a recorder here
# The actions CI may use: GitHub's and Docker's, pinned by major version.
PINNED_ACTION = r"(actions|docker)/[\w-]+@v\d+"


@pytest.fixture(
    scope="module",
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


# The baked CI files: what they hold.


def test_lint_and_test_job_runs_linters_and_tests(ci_project):
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


def test_docker_job_builds_starts_and_smoke_tests(ci_project):
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
def test_docker_job_with_https_makes_a_certificate_and_asks_over_https(
    cookies_session, platform, deployment
):
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


def test_publish_job_runs_only_for_main_and_version_tags(ci_project):
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


def test_publish_job_sets_platforms_and_registers_qemu_for_others(ci_project):
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


def test_jobs_have_timeouts_pinned_actions_and_least_privilege(ci_project):
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


# The baked CI steps, run.


def test_lint_and_test_steps_pass(ci_project, tmp_path):
    """Each lint-and-test command, as written in the CI file, in a baked copy."""
    platform, _, project, config = ci_project
    copy = shutil.copytree(project, tmp_path / "project")
    # pip may only confirm that this environment already has the pinned tools:
    # no index, and --dry-run so that nothing here is ever changed.
    env = ci_env(PIP_NO_INDEX="1", PIP_DRY_RUN="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    for command in commands(platform, config, "lint-and-test"):
        result = run(*shell(platform), command, cwd=copy, env=env)
        assert "Would install" not in result.stdout, (command, result.stdout)


class FakeNginx(http.server.BaseHTTPRequestHandler):
    """Answers like the deployment would; the class attributes set how."""

    server_name = "nginx"
    statuses = {}  # path -> the statuses to answer in turn, the last one for good; else 200

    def version_string(self):
        return self.server_name

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        queue = self.statuses.get(self.path, [200])
        self.send_response(queue.pop(0) if len(queue) > 1 else queue[0])
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_nginx():
    """Start a local server; yields a function (server_name, statuses) -> port."""
    servers = []

    def start(server_name="nginx", statuses=None, certificate=None):
        handler = type("Handler", (FakeNginx,), {"server_name": server_name})
        handler.statuses = statuses or {}
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if certificate:  # HTTPS with this certificate and the key beside it
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificate, certificate.with_name("tls.key"))
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def github_single(cookies_session):
    result = cookies_session.bake(extra_context={"ci": "github", "deployment": "single"})
    assert result.exit_code == 0, result.exception
    return result.project_path


def smoke_test(project, port):
    """The docker job's smoke step as the GitHub workflow writes it."""
    tool("curl")  # what the script asks with; a clear failure when it is missing
    config = yaml.safe_load((project / PLATFORMS["github"]).read_text())
    step = next(c for c in commands("github", config, "docker") if "smoke-test" in c)
    no_proxy = {"NO_PROXY": "*", "no_proxy": "*"}
    return run(
        *shell("github"),
        step,
        cwd=project,
        check=False,
        env=ci_env(HOST_PORT=str(port), **no_proxy),
    )


def test_smoke_test_passes_when_nginx_answers_200(github_single, fake_nginx):
    # The first answers are errors, as while the app starts: they are retried.
    port = fake_nginx(statuses={"/health": [502, 503, 200]})
    result = smoke_test(github_single, port)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["200 /health (server: nginx)", "200 / (server: nginx)"]


def test_smoke_test_fails_when_not_served_by_nginx(github_single, fake_nginx):
    result = smoke_test(github_single, fake_nginx(server_name="Werkzeug/3.1"))
    assert result.returncode != 0
    assert "/health was not answered by nginx" in result.stderr


def test_smoke_test_fails_on_an_answer_other_than_200(github_single, fake_nginx):
    result = smoke_test(github_single, fake_nginx(statuses={"/": [301]}))
    assert result.returncode != 0
    assert "/ answered 301, not 200" in result.stderr


@pytest.fixture(scope="module")
def github_https(cookies_session):
    answers = {"ci": "github", "deployment": "single", "https": "provided"}
    result = cookies_session.bake(extra_context=answers)
    assert result.exit_code == 0, result.exception
    return result.project_path


@pytest.mark.parametrize("trusted", [True, False], ids=["its-certificate", "another"])
def test_smoke_test_over_https_trusts_certs_tls_crt(github_https, fake_nginx, tmp_path, trusted):
    served = make_certificate(tmp_path / "served")
    certs = github_https / "certs"
    shutil.rmtree(certs, ignore_errors=True)
    shutil.copytree(served.parent if trusted else make_certificate(tmp_path / "x").parent, certs)
    port = fake_nginx(certificate=served)
    no_proxy = {"NO_PROXY": "*", "no_proxy": "*"}
    result = run(
        "scripts/smoke-test.sh",
        cwd=github_https,
        check=False,
        env={"HTTPS_PORT": str(port), **no_proxy},
    )
    if trusted:
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [
            "200 /health (server: nginx)",
            "200 / (server: nginx)",
        ]
    else:  # curl refuses a certificate it cannot verify
        assert result.returncode != 0
        assert "certificate" in result.stderr


# The publish step: which images and tags it pushes.

FAKE_DOCKER = """#!/bin/sh
# Records each call; `docker login --password-stdin` also records its stdin.
# `buildx inspect --bootstrap` lists the platforms FAKE_PLATFORMS names (by
# default an amd64 machine's); `buildx inspect NAME` finds the builders made.
echo "$*" >>"$DOCKER_CALLS"
case "$*" in
    *--password-stdin*) echo "password: $(cat)" >>"$DOCKER_CALLS" ;;
    "buildx inspect --bootstrap"*)
        printf 'Name:      x\\nDriver:    docker\\n\\nNodes:\\nPlatforms: %s\\nLabels:\\n' \\
            "${FAKE_PLATFORMS:-linux/amd64, linux/amd64/v2, linux/386}" ;;
    "buildx inspect "*) grep -q "^buildx create --name $3 " "$DOCKER_CALLS" ;;
esac
"""


@pytest.fixture
def fake_docker(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    calls = tmp_path / "docker-calls"
    calls.touch()
    return bin_dir, calls


def platform_env(platform, ref, platforms="linux/amd64"):
    """What GitHub Actions or GitLab CI would set for a push of `ref`."""
    if platform == "github":
        return {
            "REGISTRY": REGISTRY,  # from vars.REGISTRY
            "PLATFORMS": platforms,  # from vars.PLATFORMS, else linux/amd64
            "REGISTRY_USER": "octocat",
            "REGISTRY_PASSWORD": "s3cret",
            "GITHUB_REPOSITORY": "Acme/Shop",
            "GITHUB_REF_NAME": ref,
            "GITHUB_SHA": SHA,
        }
    return {
        "CI_REGISTRY": REGISTRY,
        "CI_REGISTRY_IMAGE": f"{REGISTRY}/acme/shop",
        "CI_REGISTRY_USER": "gitlab-ci-token",
        "CI_REGISTRY_PASSWORD": "s3cret",
        "CI_COMMIT_REF_NAME": ref,
        "CI_COMMIT_SHA": SHA,
        "PLATFORMS": platforms,  # the job's variable, or the project's
    }


def login_calls(env):
    """The docker calls of the publish job's login, with the password it reads."""
    user = env.get("REGISTRY_USER") or env["CI_REGISTRY_USER"]
    return [f"login --username {user} --password-stdin {REGISTRY}", "password: s3cret"]


def build_calls(repository, deployment, tags, *options):
    """publish.sh's build of each image: one `docker buildx build` with
    `options` (builder, platforms), the target, the label and every tag, pushed."""
    images = (
        [(repository, [])]
        if deployment == "single"
        else [(f"{repository}-{target}", ["--target", target]) for target in ("app", "proxy")]
    )
    label = f"--label org.opencontainers.image.revision={SHA}"
    return [
        " ".join(["buildx build", *options, *target, label])
        + "".join(f" --tag {image}:{tag}" for tag in tags)
        + " --push ."
        for image, target in images
    ]


MAIN_TAGS = ["sha-0123456789ab", "latest"]  # what a push to main is tagged

# The builder publish.sh makes for several platforms, then asks what it builds.
MAKE_BUILDER = [
    "buildx inspect publish",
    "buildx create --name publish --driver docker-container",
    "buildx inspect --bootstrap --builder publish",
]


@pytest.mark.parametrize(
    ("ref", "tags"),
    [
        ("main", ["sha-0123456789ab", "latest"]),
        ("v1.2.3", ["sha-0123456789ab", "1.2.3"]),
        ("feature-x", ["sha-0123456789ab"]),
    ],
)
def test_publish_steps_push_the_tested_tags(ci_project, fake_docker, ref, tags):
    platform, deployment, project, config = ci_project
    bin_dir, calls = fake_docker
    env = ci_env(bin_dir, DOCKER_CALLS=str(calls), **platform_env(platform, ref))
    for command in commands(platform, config, "publish"):
        run(*shell(platform), command, cwd=project, env=env)

    # linux/amd64 only: the default builder, asked first whether it builds it.
    builds = build_calls(f"{REGISTRY}/acme/shop", deployment, tags, "--platform", "linux/amd64")
    expected = [*login_calls(env), "buildx inspect --bootstrap", *builds]
    assert calls.read_text().splitlines() == expected


def test_publish_steps_build_every_listed_platform_into_one_image(ci_project, fake_docker):
    platform, deployment, project, config = ci_project
    bin_dir, calls = fake_docker
    both = "linux/amd64,linux/arm64"
    env = ci_env(
        bin_dir,
        DOCKER_CALLS=str(calls),
        FAKE_PLATFORMS="linux/amd64, linux/amd64/v2, linux/arm64, linux/386",
        **platform_env(platform, "main", both),
    )
    for command in commands(platform, config, "publish"):
        run(*shell(platform), command, cwd=project, env=env)

    # GitLab registers QEMU in the job's script; GitHub in a step of its own.
    qemu = ["run --rm --privileged tonistiigi/binfmt --install all"] if platform == "gitlab" else []
    options = ["--builder", "publish", "--platform", both]
    builds = build_calls(f"{REGISTRY}/acme/shop", deployment, MAIN_TAGS, *options)
    assert calls.read_text().splitlines() == [*qemu, *login_calls(env), *MAKE_BUILDER, *builds]


def publish_by_hand(project, fake_docker, *args, **env):
    """scripts/publish.sh --image acme/shop ARGS, `docker` the recorder:
    (the result, the docker calls)."""
    bin_dir, calls = fake_docker
    env = ci_env(bin_dir, DOCKER_CALLS=str(calls), **env)
    result = run(
        project / "scripts/publish.sh", "--image", "acme/shop", *args, env=env, check=False
    )
    return result, calls.read_text().splitlines()


MAIN = ["--ref", "main", "--sha", SHA]


@pytest.mark.parametrize(
    ("platforms", "listed", "built"),
    [
        ("", "linux/amd64, linux/amd64/v2, linux/386", "linux/amd64"),  # empty or unset
        ("linux/arm", "linux/arm64, linux/arm/v7, linux/arm/v6", "linux/arm"),  # arm is arm/v7
    ],
)
def test_publish_builds_one_platform_with_the_default_builder(
    github_single, fake_docker, platforms, listed, built
):
    env = {"PLATFORMS": platforms, "FAKE_PLATFORMS": listed}
    result, calls = publish_by_hand(github_single, fake_docker, *MAIN, **env)
    assert result.returncode == 0, result.stderr
    builds = build_calls("acme/shop", "single", MAIN_TAGS, "--platform", built)
    assert calls == ["buildx inspect --bootstrap", *builds]


def test_publish_makes_its_builder_once(github_single, fake_docker):
    env = {"PLATFORMS": "linux/amd64,linux/arm64", "FAKE_PLATFORMS": "linux/amd64, linux/arm64"}
    for _ in range(2):
        result, calls = publish_by_hand(github_single, fake_docker, *MAIN, **env)
        assert result.returncode == 0, result.stderr
    options = ["--builder", "publish", "--platform", env["PLATFORMS"]]
    builds = build_calls("acme/shop", "single", MAIN_TAGS, *options)
    again = ["buildx inspect publish", "buildx inspect --bootstrap --builder publish"]
    assert calls == [*MAKE_BUILDER, *builds, *again, *builds]


@pytest.mark.parametrize(
    ("platforms", "asked"),
    [
        ("linux/amd64,linux/arm64", MAKE_BUILDER),
        ("linux/arm64", ["buildx inspect --bootstrap"]),
    ],
)
def test_publish_refuses_a_platform_the_builder_cannot_build(
    github_single, fake_docker, platforms, asked
):
    """An amd64 machine without QEMU: nothing is built, rather than an image
    without arm64."""
    result, calls = publish_by_hand(github_single, fake_docker, *MAIN, PLATFORMS=platforms)
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert line.startswith(f"publish.sh: PLATFORMS '{platforms}': the builder cannot build ")
    assert "build linux/arm64; register QEMU" in line
    assert "tonistiigi/binfmt --install linux/arm64" in line
    assert calls == asked


@pytest.mark.parametrize(
    ("platforms", "entry"),
    [
        ("linux/AMD64", "linux/AMD64"),
        ("arm64", "arm64"),
        ("linux/amd64,", ""),
        ("linux/amd64, linux/arm64", " linux/arm64"),
        ("linux/arm/v7/x", "linux/arm/v7/x"),
    ],
)
def test_publish_refuses_a_malformed_platform_before_anything(
    github_single, fake_docker, platforms, entry
):
    result, calls = publish_by_hand(github_single, fake_docker, *MAIN, PLATFORMS=platforms)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"publish.sh: PLATFORMS '{platforms}': '{entry}' is not a platform"
        " (os/arch[/variant], lowercase, e.g. linux/arm64)"
    ]
    assert calls == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ref", "main", "--sha", "abc"], "--sha 'abc': use the commit's hash"),
        (["--ref", "v1.2+build", "--sha", SHA], "'1.2+build' is not a valid image tag"),
        (["--ref", "main"], "scripts/publish.sh --image IMAGE --ref REF --sha SHA"),
    ],
)
def test_publish_refuses_bad_arguments_before_building(github_single, fake_docker, args, message):
    result, calls = publish_by_hand(github_single, fake_docker, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert calls == []


def test_gitlab_lint_and_test_job_runs_here(cookies_session, tmp_path):
    """The baked .gitlab-ci.yml's lint-and-test job, run by gitlab-ci-local in
    this machine's shell (pip installs requirements-dev.txt, hashes checked,
    into a fresh virtualenv): it passes, and fails once a test fails."""
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


# The template's own CI.

WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


def test_template_workflow_matches_the_schema():
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", WORKFLOW)


def test_template_workflow_passes_actionlint():
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_faults(tmp_path):
    """What the lint above would say of a typo, a removed runtime and a run
    step shellcheck rejects: it can fail."""
    workflow = tmp_path / "ci.yml"
    workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v3\n"
        "      - run: echo ${{ github.evnt }}\n"
        "      - run: cd $undefined_dir\n"
    )
    output = actionlint(workflow).stdout
    assert "[action]" in output and "[expression]" in output and "SC2086" in output


def summary(builds):
    """The lines the terminal summary writes for these Docker builds."""
    return summary_lines(set(), builds)


def test_template_workflow_runs_the_readme_test_command_on_a_matrix(tmp_path):
    config = yaml.safe_load(WORKFLOW.read_text())
    assert config["permissions"] == {"contents": "read"}
    assert config["defaults"]["run"]["shell"] == "bash"  # -eo pipefail: tee keeps the status
    assert set(config["jobs"]) == {"test", "arm64"}
    job = config["jobs"]["test"]
    assert job["runs-on"].startswith("ubuntu-") and 0 < job["timeout-minutes"] <= 90
    assert len(job["strategy"]["matrix"]["python"]) >= 2
    for step in job["steps"]:
        if "uses" in step:
            assert re.fullmatch(PINNED_ACTION, step["uses"]), step
        if "run" in step:
            assert "${{" not in step["run"], step
    runs = [step["run"].strip() for step in job["steps"] if "run" in step]
    script = tmp_path / "commands"
    script.write_text("\n".join(runs) + "\n")
    run(tool("shellcheck"), "--shell", "bash", script)
    test_step = next(step for step in runs if step.startswith("scripts/test.sh"))
    assert test_step.split("|")[0].strip() == "scripts/test.sh"
    # A registry answers there: the next step fails the job when a variant was skipped,
    # reading the summary line that conftest writes.
    check = runs[runs.index(test_step) + 1]
    pattern = re.search(r"grep -E '(.+)' ", check).group(1)
    all_built = summary({"debian:trixie-slim/single": None, "ubuntu:24.04/split": None})
    one_skipped = summary({"debian:trixie-slim/single": None, "ubuntu:24.04/split": "no registry"})
    assert [line for line in all_built if re.search(pattern, line)] == [all_built[-1]]
    assert not [line for line in one_skipped if re.search(pattern, line)]


def test_template_workflow_runs_the_arm64_test_under_qemu():
    """The arm64 test, which the run above skips, in a job of its own with
    QEMU registered for arm64."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["arm64"]["steps"]
    qemu = next(i for i, step in enumerate(steps) if "setup-qemu-action" in step.get("uses", ""))
    assert steps[qemu]["with"] == {"platforms": "arm64"}
    runs = [i for i, step in enumerate(steps) if step.get("run") == "scripts/test.sh -m arm64"]
    assert runs and runs[0] > qemu


def test_local_ci_runs_the_same_command():
    """.ci/run ends in the very command README.md gives for the whole suite."""
    lines = (REPO / ".ci" / "run").read_text().splitlines()
    code = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    readme = (REPO / "README.md").read_text()
    [given] = re.findall(r"^(\S.*?)\s+# the whole test suite", readme, re.MULTILINE)
    assert code[-1].split(maxsplit=1)[-1] == given == "scripts/test.sh"
