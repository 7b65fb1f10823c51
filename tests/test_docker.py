"""Every (base image, deployment) variant builds in a real Docker engine and serves
through nginx and uWSGI; install.sh and docker compose do what their docs say."""

import json

import pytest
from deployments import deployment, only, remove_images, run_install
from engine import docker, free_port, http_get, wait_healthy
from helpers import CONTEXT

pytestmark = pytest.mark.docker


def test_home_page_through_nginx_and_uwsgi(variant, served):
    status, headers, body = http_get(f"{served.url}/")
    assert status == 200
    assert headers["Server"] == "nginx"
    assert headers.get_content_type() == "text/html"
    # Rendered by Flask from app/templates: the name filled in, the stylesheet linked.
    assert f"<title>{variant.name}</title>".encode() in body
    assert f'href="{CONTEXT["_static_url_path"]}/style.css"'.encode() in body


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


def test_production_runs_without_flask_debug(served):
    # FLASK_DEBUG is make dev's alone (compose.dev.yaml).
    assert docker("exec", served.app, "printenv", "FLASK_DEBUG", check=False).returncode == 1


def test_nginx_config_valid_in_the_container(served):
    docker("exec", served.proxy, "nginx", "-t", "-q", "-e", "stderr", "-c", CONTEXT["_nginx_conf"])


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
        first = run_install(variant, *flags, "--port", str(port))
        assert first.returncode == 0, first.stdout + first.stderr
        assert f"http://localhost:{port}/" in first.stdout
        [first_id] = containers_named(name)
        config = json.loads(docker("inspect", "--format", "{{json .HostConfig}}", name).stdout)
        assert config["RestartPolicy"]["Name"] == "unless-stopped"
        assert config["ReadonlyRootfs"] is True
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
    # As a user: the project name (the container_name answer) comes from
    # compose.yaml, the port is the host_port answer.
    label = f"label=com.docker.compose.project={variant.name}"
    try:
        variant.compose("up", "--detach")
        wait_healthy(variant.compose("ps", "--quiet", "proxy").stdout.strip())
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
def test_compose_passes_settings_from_env_file(variant):
    """A setting in .env reaches the containers; one left out keeps the image's
    default (compose names no setting, so it cannot restate a default)."""
    settings = {"UWSGI_PROCESSES": "3", "NGINX_MAX_BODY_SIZE": "1m"}
    with deployment(variant, f"{variant.name}-settings", env=settings) as running:
        app, proxy = environment(running.app), environment(running.proxy)
    assert app["UWSGI_PROCESSES"] == "3"
    assert proxy["NGINX_MAX_BODY_SIZE"] == "1m"
    assert app["UWSGI_LISTEN"] == CONTEXT["_uwsgi_settings"]["UWSGI_LISTEN"]
    nginx = CONTEXT["_nginx_settings"]
    assert proxy["NGINX_WORKER_PROCESSES"] == nginx["NGINX_WORKER_PROCESSES"]
    assert proxy["NGINX_ACCESS_LOG"] == nginx["NGINX_ACCESS_LOG"]
