"""Every (base image, deployment) variant builds in a real Docker engine and serves
through nginx and uWSGI; install.sh and docker compose do what their docs say."""

import json
import shutil

import pytest
from deployments import (
    SUITE,
    deployment,
    only,
    remove_images,
    run_install,
    secret_key_volume,
)
from engine import docker, free_port, http_get, is_uwsgi, wait_checks_pass, wait_serving
from helpers import IMAGE, IMAGE_SETTINGS

pytestmark = pytest.mark.docker


def test_home_page_is_rendered_behind_nginx(variant, served):
    status, headers, body = http_get(f"{served.url}/")
    assert status == 200
    assert headers["Server"] == "nginx"
    assert headers.get_content_type() == "text/html"
    # Rendered by Flask from app/templates: the name filled in, the stylesheet linked.
    assert f"<title>{variant.name}</title>".encode() in body
    assert f'href="{IMAGE["static_url_path"]}/style.css"'.encode() in body


def test_json_route(variant, served):
    status, headers, body = http_get(f"{served.url}/api/hello")
    assert (status, headers.get_content_type()) == (200, "application/json")
    assert json.loads(body) == {"message": f"Hello from {variant.name}!"}


def test_health_route(served):
    status, _, body = http_get(f"{served.url}/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_unknown_path_is_404_from_flask(served):
    status, headers, body = http_get(f"{served.url}/no-such-page")
    assert status == 404
    assert headers["Server"] == "nginx"
    assert b"Not Found" in body


@pytest.mark.varies_with("nginx")
def test_metrics_are_nobodys_by_default(served):
    # NGINX_METRICS_FROM is empty until the operator names Prometheus.
    status, headers, body = http_get(f"{served.url}/metrics")
    assert (status, headers["Server"]) == (403, "nginx")
    assert b"app_requests_total" not in body
    assert http_get(f"{served.url}/nginx-metrics")[0] == 404


def test_production_runs_without_flask_debug(served):
    # FLASK_DEBUG is make dev's alone (compose.dev.yaml).
    assert docker("exec", served.app, "printenv", "FLASK_DEBUG", check=False).returncode == 1


@pytest.mark.varies_with("nginx")
def test_nginx_config_valid_in_the_container(served):
    # As an operator would: nginx's own paths lead to the running configuration.
    docker("exec", served.proxy, "nginx", "-t", "-q")


@pytest.mark.varies_with("nginx")
def test_nginx_reloads_in_the_container(served):
    docker("exec", served.proxy, "nginx", "-s", "reload")
    assert http_get(f"{served.url}/health")[0] == 200


@pytest.mark.varies_with()
def test_deployment_lifecycle(variant):
    """What a user runs: install.sh (one container) or docker compose (split)."""
    if variant.split:
        check_compose_up_and_down(variant)
    else:
        check_install_script(variant)


def containers_named(name):
    listing = docker("ps", "--all", "--quiet", "--filter", f"name=^/{name}$")
    return listing.stdout.split()


def check_install_script(variant):
    name = f"{variant.name}-install"
    port = free_port()
    flags = ["--name", name, "--image", name]
    try:
        first = run_install(variant.project, *flags, "--port", str(port))
        assert first.returncode == 0, first.stdout + first.stderr
        assert f"http://localhost:{port}/" in first.stdout
        [first_id] = containers_named(name)
        config = json.loads(docker("inspect", "--format", "{{json .HostConfig}}", name).stdout)
        assert config["RestartPolicy"]["Name"] == "unless-stopped"
        assert config["ReadonlyRootfs"] is True
        assert http_get(f"http://127.0.0.1:{port}/")[0] == 200
        docker("exec", name, "sh", "-c", "echo kept > /srv/data/marker")

        again = run_install(variant.project, *flags, "--port", str(port))
        assert again.returncode == 0, again.stdout + again.stderr
        [second_id] = containers_named(name)
        assert second_id != first_id, "install.sh should replace the container"
        assert http_get(f"http://127.0.0.1:{port}/")[0] == 200
        assert docker("exec", name, "cat", "/srv/data/marker").stdout == "kept\n"

        # No terminal on stdin: --uninstall goes ahead without asking.
        gone = run_install(variant.project, "--uninstall", *flags)
        assert gone.returncode == 0, gone.stdout + gone.stderr
        assert containers_named(name) == []
        assert docker("image", "inspect", name, check=False).returncode != 0
    finally:
        docker("rm", "--force", name, check=False)
        remove_images([name])
        docker("volume", "rm", f"{name}-data", check=False)


def check_compose_up_and_down(variant):
    # As a user: the project name (the container_name answer) comes from
    # compose.yaml, the port is the host_port answer.
    label = f"label=com.docker.compose.project={variant.name}"
    try:
        variant.compose("up", "--detach")
        wait_serving(variant.compose("ps", "--quiet", "proxy").stdout.strip(), variant.baked_port)
        assert http_get(f"http://127.0.0.1:{variant.baked_port}/")[0] == 200
    finally:
        variant.compose("down", "--volumes", "--remove-orphans")
    assert docker("ps", "--all", "--quiet", "--filter", label).stdout == ""
    assert docker("network", "ls", "--quiet", "--filter", label).stdout == ""
    assert docker("volume", "ls", "--quiet", "--filter", label).stdout == ""


def environment(container):
    listing = docker("inspect", "--format", "{{json .Config.Env}}", container).stdout
    return dict(item.split("=", 1) for item in json.loads(listing))


@only("split")
@pytest.mark.varies_with()
def test_compose_passes_settings_from_env_file(variant):
    """A setting in .env reaches the containers; one left out keeps the image's
    default (compose names no setting, so it cannot restate a default)."""
    settings = {"UWSGI_PROCESSES": "3", "NGINX_MAX_BODY_SIZE": "1m"}
    with deployment(variant, f"{variant.name}-settings", env=settings) as running:
        app, proxy = environment(running.app), environment(running.proxy)
    assert app["UWSGI_PROCESSES"] == "3"
    assert proxy["NGINX_MAX_BODY_SIZE"] == "1m"
    assert app["UWSGI_LISTEN"] == IMAGE_SETTINGS["uwsgi"]["UWSGI_LISTEN"]
    nginx = IMAGE_SETTINGS["nginx"]
    assert proxy["NGINX_WORKER_PROCESSES"] == nginx["NGINX_WORKER_PROCESSES"]
    assert proxy["NGINX_CSP"] == nginx["NGINX_CSP"]


def uwsgi_workers(container):
    """uWSGI's worker processes in a running container (all uwsgi ones but the master)."""
    listing = docker(
        "exec", container, "sh", "-c",
        'for p in /proc/[0-9]*; do tr "\\0" " " <"$p/cmdline"; echo; done',
    ).stdout  # fmt: skip
    return sum(is_uwsgi(line) for line in listing.splitlines()) - 1


@pytest.mark.parametrize(
    "limit, workers",
    [(["--cpus", "1"], 2), (["--cpus", "2"], 4), (["--cpuset-cpus", "0"], 2)],
    ids=["cpus-1", "cpus-2", "cpuset-0"],
)
def test_workers_follow_the_cpus_the_container_may_use(variant, limit, workers):
    """UWSGI_PROCESSES=auto: 2 per CPU of the container's quota or CPU set."""
    if int(docker("info", "--format", "{{.NCPU}}").stdout) < 2 and "2" in limit:
        pytest.skip("the engine's machine has fewer than 2 CPUs")
    name = f"{variant.name}-workers{''.join(limit).replace('-', '')}"
    image = variant.images[0]  # the app's (split) or the only one
    try:
        key = secret_key_volume(variant.project)
        docker(
            "run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp", *key, *limit, image
        )
        wait_checks_pass(name)
        assert uwsgi_workers(name) == workers
        assert f"{workers} uWSGI workers" in docker("logs", name).stderr
    finally:
        docker("rm", "--force", name, check=False)


@only("single")
@pytest.mark.varies_with()
def test_files_added_to_the_docker_folders_take_part_in_the_start(variant, tmp_path):
    """Scripts in docker/app/entrypoint.d run before the app serves, as its
    user; snippets in docker/nginx/server.d join the server block; a script
    that fails stops the start, and install.sh then keeps the running container,
    whose image :latest leads to again."""
    project = tmp_path / "project"
    # Without secrets/: a copy would lose the key's group, which the app reads it by.
    shutil.copytree(variant.project, project, ignore=shutil.ignore_patterns("secrets"))
    snippet = "location = /snippet {\n    default_type text/plain;\n    return 200 snippet;\n}\n"
    (project / "docker/nginx/server.d/snippet.conf").write_text(snippet)
    task = project / "docker/app/entrypoint.d/50-task.sh"
    task.write_text('#!/bin/sh\necho "50-task.sh: ran as uid $(id -u)" >&2\n')
    task.chmod(0o755)
    name, port = f"{variant.name}-tasks", free_port()
    flags = ["--name", name, "--image", name, "--port", str(port)]
    try:
        first = run_install(project, *flags)
        assert first.returncode == 0, first.stdout + first.stderr
        assert http_get(f"http://127.0.0.1:{port}/snippet")[:3:2] == (200, b"snippet")
        assert f"50-task.sh: ran as uid {IMAGE['uid']}" in docker("logs", name).stderr
        [running] = containers_named(name)

        failing = project / "docker/app/entrypoint.d/60-fail.sh"
        failing.write_text('#!/bin/sh\necho "60-fail.sh: no database" >&2\nexit 3\n')
        failing.chmod(0o755)
        again = run_install(project, *flags)
        assert again.returncode != 0
        assert "60-fail.sh: no database" in again.stderr
        assert f"the new image does not start (see above); {name} is left" in again.stderr
        assert containers_named(name) == [running]
        assert http_get(f"http://127.0.0.1:{port}/snippet")[0] == 200
        serving = docker("inspect", "--format", "{{.Image}}", name).stdout.strip()
        assert docker("image", "inspect", "--format", "{{.Id}}", name).stdout.strip() == serving

        # Started anyway, the new image stops with the script's message.
        docker("build", "--quiet", "--tag", f"{name}-broken", project)
        key = secret_key_volume(project)
        broken = docker("run", "--rm", "--read-only", "--tmpfs", "/tmp", *key, f"{name}-broken",
                        check=False)  # fmt: skip
        assert broken.returncode == 3 and "60-fail.sh: no database" in broken.stderr
    finally:
        run_install(project, "--uninstall", *flags[:4])
        docker("rmi", f"{name}-broken", check=False)
        docker("volume", "rm", f"{name}-data", check=False)


def test_each_base_brings_the_suite_it_is_said_to(variant):
    """The nginx image's distribution suite is the one SUITE names: the tests
    that vary with nginx run once per suite (deployments.bases_for)."""
    release = docker("run", "--rm", "--entrypoint", "cat", variant.images[-1], "/etc/os-release")
    assert f"VERSION_CODENAME={SUITE[variant.base_image]}\n" in release.stdout
