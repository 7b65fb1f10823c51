"""Build every (base image, deployment) variant in a real Docker engine and serve it.

One build per variant (session fixtures), shared by every test of it. Every
container, network, volume and tagged image a test makes is removed again.
"""

import itertools
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import BUILDS, CHOICES, CONTEXT, run, skip_or_fail
from engine import (
    base_image_problem,
    buildkit_client,
    compose_command,
    docker,
    engine_problem,
    free_port,
    http_get,
    wait_healthy,
)

pytestmark = pytest.mark.docker

VARIANTS = list(itertools.product(CHOICES["base_image"], CHOICES["deployment"]))
LEGACY = {"DOCKER_BUILDKIT": "0"}


def variant_id(variant):
    return f"base_image:{variant[0]}-deployment:{variant[1]}"


@dataclass
class Variant:
    base_image: str
    deployment: str
    project: Path
    name: str  # container name and image name, unique to this variant
    port: int  # where the tests publish it
    baked_port: int  # the host_port answer
    images: list[str] = field(default_factory=list)

    def compose(self, *args, check=True, as_user=False):
        """docker compose (v2) or docker-compose (v1) in this variant's project.

        as_user runs it as a user would, with the defaults from the baked .env;
        otherwise under a project name and a port of the tests' own.
        """
        override = [] if as_user else ["--project-name", f"{self.name}-served"]
        env = LEGACY if as_user else {**LEGACY, "HOST_PORT": str(self.port)}
        return run(*compose_command(), *override, *args, check=check, cwd=self.project, env=env)

    def proxy_container(self, as_user=False):
        return self.compose("ps", "--quiet", "proxy", as_user=as_user).stdout.strip()


@pytest.fixture(scope="session")
def engine():
    problem = engine_problem()
    if problem:
        skip_or_fail(problem)


@pytest.fixture(scope="session", params=VARIANTS, ids=variant_id)
def variant(request, engine, cookies_session):
    """The baked project of one variant, built with the legacy builder."""
    base_image, deployment = request.param
    results = request.config.stash[BUILDS]
    label = f"{base_image}/{deployment}"
    problem = base_image_problem(base_image)
    results[label] = problem or "the build failed"
    if problem:
        if base_image.startswith("debian:"):
            skip_or_fail(f"{base_image}: {problem}")
        pytest.skip(f"{base_image}: {problem}")
    name = "fdtest-" + f"{base_image}-{deployment}".replace(":", "-").replace(".", "-")
    baked_port = free_port()
    bake = cookies_session.bake(
        extra_context={
            "project_name": name,
            "base_image": base_image,
            "deployment": deployment,
            "ci": "none",
            "host_port": str(baked_port),
        }
    )
    assert bake.exit_code == 0, bake.exception
    built = Variant(base_image, deployment, bake.project_path, name, free_port(), baked_port)
    request.addfinalizer(lambda: remove_images(built.images))
    if deployment == "single":
        docker("build", "--tag", name, str(built.project), env=LEGACY)
        built.images = [name]
    else:
        built.images = [f"{name}-app", f"{name}-proxy"]
        built.compose("build")
    results[label] = None
    return built


def remove_images(images):
    if images:
        docker("rmi", "--force", *images, check=False)


@pytest.fixture(scope="session")
def served(variant):
    """The variant running, published on 127.0.0.1; yields the proxy container."""
    if variant.deployment == "single":
        docker(
            "run",
            "--detach",
            "--name",
            variant.name,
            "--publish",
            f"127.0.0.1:{variant.port}:{CONTEXT['_container_port']}",
            variant.name,
        )
        try:
            wait_healthy(variant.name)
            yield variant.name
        finally:
            docker("rm", "--force", "--volumes", variant.name, check=False)
    else:
        try:
            variant.compose("up", "--detach")
            proxy = variant.proxy_container()
            wait_healthy(proxy)
            yield proxy
        finally:
            variant.compose("down", "--volumes", "--remove-orphans", check=False)


def test_home_page_through_nginx_and_uwsgi(variant, served):
    status, headers, body = http_get(f"http://127.0.0.1:{variant.port}/")
    assert status == 200
    assert headers["Server"] == "nginx"
    assert json.loads(body) == {"message": f"Hello from {variant.name}!"}


def test_health_route(variant, served):
    status, _, body = http_get(f"http://127.0.0.1:{variant.port}/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_unknown_path_is_404_from_flask(variant, served):
    status, headers, _ = http_get(f"http://127.0.0.1:{variant.port}/no-such-page")
    assert status == 404
    assert headers["Server"] == "nginx"


def test_nginx_config_valid_in_the_container(served):
    docker("exec", served, "nginx", "-t", "-q", "-e", "stderr")


def test_builds_with_buildkit(variant):
    client = buildkit_client()
    if client is None:
        skip_or_fail("no docker client here builds with BuildKit (no buildx, client >= 23)")
    targets = [None] if variant.deployment == "single" else ["app", "proxy"]
    for target in targets:
        tag = f"{variant.name}-buildkit{'-' + target if target else ''}"
        args = ["build", "--tag", tag, *(["--target", target] if target else [])]
        try:
            docker(*args, str(variant.project), env={"DOCKER_BUILDKIT": "1"}, client=client)
        finally:
            remove_images([tag])


def run_install(variant, *args):
    return run(
        "./install.sh",
        *args,
        check=False,
        cwd=variant.project,
        env=LEGACY,
        stdin=subprocess.DEVNULL,
        timeout=900,
    )


def containers_named(name):
    listing = docker("ps", "--all", "--quiet", "--filter", f"name=^/{name}$")
    return listing.stdout.split()


def test_deployment_lifecycle(variant):
    """What a user runs: install.sh (one container) or docker compose (split)."""
    if variant.deployment == "single":
        check_install_script(variant)
    else:
        check_compose_up_and_down(variant)


def check_install_script(variant):
    name = f"{variant.name}-install"
    port = free_port()
    flags = ["--name", name, "--image", name]
    try:
        first = run_install(variant, *flags, "--port", str(port))
        assert first.returncode == 0, first.stdout + first.stderr
        assert f"http://localhost:{port}/" in first.stdout
        [first_id] = containers_named(name)
        policy = docker("inspect", "--format", "{{.HostConfig.RestartPolicy.Name}}", name)
        assert policy.stdout.strip() == "unless-stopped"
        assert http_get(f"http://127.0.0.1:{port}/")[0] == 200
        docker("exec", name, "sh", "-c", "echo kept > /srv/data/marker")

        again = run_install(variant, *flags, "--port", str(port))
        assert again.returncode == 0, again.stdout + again.stderr
        [second_id] = containers_named(name)
        assert second_id != first_id, "install.sh should replace the container"
        assert http_get(f"http://127.0.0.1:{port}/")[0] == 200
        assert docker("exec", name, "cat", "/srv/data/marker").stdout == "kept\n"

        # No terminal on stdin: --uninstall goes ahead without asking.
        gone = run_install(variant, "--uninstall", *flags)
        assert gone.returncode == 0, gone.stdout + gone.stderr
        assert containers_named(name) == []
        assert docker("image", "inspect", name, check=False).returncode != 0
    finally:
        docker("rm", "--force", name, check=False)
        remove_images([name])
        docker("volume", "rm", f"{name}-data", check=False)


def check_compose_up_and_down(variant):
    # As a user: project name (the container_name answer) and port from .env.
    label = f"label=com.docker.compose.project={variant.name}"
    try:
        variant.compose("up", "--detach", as_user=True)
        wait_healthy(variant.proxy_container(as_user=True))
        assert http_get(f"http://127.0.0.1:{variant.baked_port}/")[0] == 200
    finally:
        variant.compose("down", "--volumes", "--remove-orphans", as_user=True)
    assert docker("ps", "--all", "--quiet", "--filter", label).stdout == ""
    assert docker("network", "ls", "--quiet", "--filter", label).stdout == ""
    assert docker("volume", "ls", "--quiet", "--filter", label).stdout == ""
