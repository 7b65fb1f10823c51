"""The conventional commands on a fresh bake, with no make step first:
`docker build` and `docker run` (one container), `docker compose up -d`
(split; with PostgreSQL: test_database), and the development file's `up` beside a
running deployment, which `make dev-down` removes again without a trace."""

import shutil

import pytest
from deployments import only
from engine import docker, free_port, http_get, wait_serving
from helpers import IMAGE, run

pytestmark = pytest.mark.docker

KEPT = f"{IMAGE['data_dir']}/secret_key"
GENERATED = f"secret key: generated and kept in the data volume ({KEPT})"


def fresh_copy(variant, tmp_path):
    """The variant's project as baked: no secrets/ made."""
    project = tmp_path / variant.name
    shutil.copytree(variant.project, project, ignore=shutil.ignore_patterns("secrets"))
    return project


def secret_key_lines(container):
    log = docker("logs", container)
    return [line for line in (log.stdout + log.stderr).splitlines() if "secret key" in line]


def service_container(project, service, *files):
    """The id of the one container of a compose service."""
    [container] = run(
        "docker", "compose", *files, "ps", "--quiet", service, cwd=project
    ).stdout.split()  # fmt: skip
    return container


def project_leftovers(name):
    """Containers, networks, volumes and images of a compose project."""
    label = f"label=com.docker.compose.project={name}"
    found = docker("ps", "--all", "--quiet", "--filter", label).stdout.split()
    found += docker("network", "ls", "--quiet", "--filter", label).stdout.split()
    found += docker("volume", "ls", "--quiet", "--filter", label).stdout.split()
    found += docker("images", "--quiet", "--filter", f"reference={name}-*").stdout.split()
    return found


@only("single")
@pytest.mark.varies_with()
def test_lifecycle_plain_docker_serves_a_fresh_bake(variant, tmp_path):
    """docker build -t X . && docker run -p PORT:8080 X serves: the secret key
    is made and kept in the container's data folder."""
    project = fresh_copy(variant, tmp_path)
    image, port = f"{variant.name}-run", free_port()
    try:
        docker("build", "--quiet", "--tag", image, ".", cwd=project)
        port_map = f"{port}:{IMAGE['container_port']}"
        docker("run", "--detach", "--name", image, "--publish", port_map, image)
        wait_serving(image, port)
        assert http_get(f"http://127.0.0.1:{port}/api/hello")[0] == 200
        assert secret_key_lines(image) == [GENERATED]
    finally:
        docker("rm", "--force", image, check=False)
        docker("rmi", image, check=False)


@only("split")
@pytest.mark.varies_with()
def test_lifecycle_compose_serves_a_fresh_bake_with_dev_beside_it(variant, tmp_path):
    """docker compose up -d serves a fresh bake; the development file's up
    runs beside it (its own project, images and port), and make dev-down
    removes all it made while the deployment goes on."""
    project = fresh_copy(variant, tmp_path)
    dev = ["--file", "compose.yaml", "--file", "compose.dev.yaml"]
    dev_name = f"{variant.name}-dev"
    port, dev_port = free_port(), free_port()
    env = {"HOST_PORT": str(port), "DEV_PORT": str(dev_port)}
    try:
        run("docker", "compose", "up", "--detach", cwd=project, env=env)
        proxy = service_container(project, "proxy")
        wait_serving(proxy, port)
        assert secret_key_lines(service_container(project, "app")) == [GENERATED]

        run("docker", "compose", *dev, "up", "--detach", "--build", cwd=project, env=env)
        wait_serving(service_container(project, "proxy", *dev), dev_port)
        for site in (port, dev_port):
            assert http_get(f"http://127.0.0.1:{site}/api/hello")[0] == 200
        assert project_leftovers(dev_name), "the dev project runs under a name of its own"

        run("make", "dev-down", cwd=project, env=env)
        assert project_leftovers(dev_name) == []
        assert http_get(f"http://127.0.0.1:{port}/api/hello")[0] == 200
        assert docker("inspect", "--format", "{{.State.Running}}", proxy).stdout.strip() == "true"
    finally:
        run("docker", "compose", *dev, "down", "--volumes", "--rmi", "local", cwd=project,
            env=env, check=False)  # fmt: skip
        run("docker", "compose", "down", "--volumes", cwd=project, env=env, check=False)
