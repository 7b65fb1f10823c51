"""Docker fixtures: each (base image, deployment) variant baked, built once, and run.

Loaded as a pytest plugin by conftest.py. Every container, network, volume and
tagged image made here is removed again, also when a test fails.
"""

import itertools
import os
import signal
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from engine import (
    base_image_problem,
    docker,
    engine_problem,
    free_port,
    make_meanwhile,
    stand_in,
    wait_serving,
)
from helpers import BUILDS, CHOICES, DEFAULT_BASE, IMAGE, RUN_PREFIX, run, skip_or_fail

VARIANTS = list(itertools.product(CHOICES["base_image"], CHOICES["deployment"]))

# What each base image brings that a test can see besides its Python: the
# Debian or Ubuntu suite its nginx (and every other apt package) comes from.
# python:*-slim is Debian trixie underneath, so its nginx is debian:trixie-slim's
# (test_each_base_brings_the_suite_it_is_said_to checks every built variant).
SUITE = {
    "debian:trixie-slim": "trixie",
    "debian:bookworm-slim": "bookworm",
    "python:3.13-slim": "trixie",
    "python:3.14-slim": "trixie",
    "ubuntu:24.04": "noble",
}


def bases_for(marker):
    """The base images a Docker test runs on, from its `varies_with` marker:
    without one, every base; with `varies_with("nginx")`, the first base of
    each suite (another base with the same nginx adds nothing to what the test
    sees); with `varies_with()`, the default base only (the test proves how the
    project deploys: install.sh, compose, swarm, re-installs, settings)."""
    if marker is None:
        return set(CHOICES["base_image"])
    if marker.args == ("nginx",):
        first = {}
        for base in [DEFAULT_BASE, *CHOICES["base_image"]]:
            first.setdefault(SUITE[base], base)
        return set(first.values())
    assert marker.args == (), f"varies_with takes nothing or 'nginx', not {marker.args}"
    return {DEFAULT_BASE}


NARROWED = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Leave out each run of a Docker test on a base image that cannot change
    what it proves (bases_for); the closing summary counts them."""
    left_out = []
    for item in items:
        params = getattr(item, "callspec", None) and item.callspec.params
        variant = params and (params.get("variant") or params.get("tls_variant"))
        if variant and variant[0] not in bases_for(item.get_closest_marker("varies_with")):
            left_out.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        dropped = set(left_out)
        items[:] = [item for item in items if item not in dropped]
    config.stash[NARROWED] = len(left_out)


MEANWHILE = pytest.StashKey[subprocess.Popen | None]()


def images_to_make(items):
    """The make-*-image.sh commands of the images these Docker tests need, in
    the order they need them: each variant's base, and what a module names in
    STAND_INS."""
    commands = {}
    for item in items:
        if not item.get_closest_marker("docker") or item.get_closest_marker("arm64"):
            continue  # the arm64 test runs beside them, and makes its own
        params = getattr(item, "callspec", None) and item.callspec.params
        variant = params and (params.get("variant") or params.get("tls_variant"))
        for command in [variant and stand_in(variant[0]), *getattr(item.module, "STAND_INS", ())]:
            if command:
                commands.setdefault(tuple(map(str, command)), command)
    return list(commands.values())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """Once the first Docker test has the engine (its set-up passed), the
    images the Docker tests from there on need are made in the background
    (make_meanwhile)."""
    result = yield
    config = item.config
    if MEANWHILE not in config.stash and "engine" in item.fixturenames:
        if not item.get_closest_marker("arm64"):
            config.stash[MEANWHILE] = None  # tried once
            following = item.session.items[item.session.items.index(item) :]
            if not engine_problem():
                config.stash[MEANWHILE] = make_meanwhile(images_to_make(following))
    return result


def pytest_sessionfinish(session):
    """A background maker still running (a run cut short) is stopped."""
    maker = session.config.stash.get(MEANWHILE, None)
    if maker and maker.poll() is None:
        os.killpg(maker.pid, signal.SIGTERM)
        maker.wait(timeout=30)


def pytest_terminal_summary(terminalreporter, config):
    narrowed = config.stash.get(NARROWED, 0)
    if narrowed:
        terminalreporter.write_line(
            f"{narrowed} runs of Docker tests on base images that cannot change their outcome "
            "were left out (deselected; tests/deployments.py: bases_for)"
        )


CONTAINER_PORT = IMAGE["container_port"]
SECRET_KEY_PATH = IMAGE["secret_key_path"]


def secret_key(project):
    """The bake's secret key file, made by scripts/make-secrets.sh when missing
    (no test may count on an earlier one having made it)."""
    if not (project / SECRET_KEY_PATH).exists():
        run("scripts/make-secrets.sh", cwd=project)
    return project / SECRET_KEY_PATH


def secret_key_volume(project):
    """docker run's option that mounts the bake's secret key, as install.sh
    does when the file is there."""
    return ["--volume", f"{secret_key(project)}:{IMAGE['secret_key_file']}:ro"]


def variant_id(variant):
    return f"base_image:{variant[0]}-deployment:{variant[1]}"


@dataclass
class Variant:
    """A baked and built variant. name is its slug, container and image name."""

    base_image: str
    deployment: str
    project: Path
    name: str
    baked_port: int  # the host_port answer
    images: list[str] = field(default_factory=list)

    @property
    def split(self):
        return self.deployment == "split"

    def compose(self, *args, project=None, env=None, check=True):
        """docker compose in the baked project.

        Without a project name it runs as a user would, with the one compose.yaml names.
        """
        names = ["--project-name", project] if project else []
        return run("docker", "compose", *names, *args, check=check, cwd=self.project, env=env)


@dataclass
class Running:
    """A deployment that answers on 127.0.0.1:port. In the one-container
    deployment proxy and app are the same container."""

    port: int
    proxy: str
    app: str

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


SETTING_PREFIXES = ("NGINX_", "UWSGI_", "FLASK_")


@contextmanager
def settings_file(project, env):
    """The image settings among env in project/.env, where users keep them for
    compose and swarm, while the block runs; yields the rest of env (what
    compose reads from the shell). Gone afterwards, so no later test reads it."""
    settings = {key: value for key, value in env.items() if key.startswith(SETTING_PREFIXES)}
    env_file = project / ".env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    try:
        yield {key: value for key, value in env.items() if key not in settings}
    finally:
        env_file.unlink()


@contextmanager
def deployment(variant, name, env=None):
    """Run a private copy of the variant under `name`, as its users do:
    install.sh (settings from the shell), or docker compose (settings in .env)."""
    env = env or {}
    port = free_port()
    if not variant.split:
        try:
            result = run_install(variant.project, "--name", name, "--image", variant.name,
                                 "--port", str(port), env=env)  # fmt: skip
            assert result.returncode == 0, result.stdout + result.stderr
            wait_serving(name, port)
            yield Running(port, name, name)
        finally:
            docker("rm", "--force", "--volumes", name, check=False)
            docker("volume", "rm", f"{name}-data", check=False)
    else:
        try:
            with settings_file(variant.project, {**env, "HOST_PORT": str(port)}) as shell:
                variant.compose("up", "--detach", project=name, env=shell)
            proxy = variant.compose("ps", "--quiet", "proxy", project=name).stdout.strip()
            app = variant.compose("ps", "--quiet", "app", project=name).stdout.strip()
            wait_serving(proxy, port)
            yield Running(port, proxy, app)
        finally:
            variant.compose("down", "--volumes", "--remove-orphans", project=name, check=False)


def run_install(project, *args, env=None):
    """A project's install.sh as a script runs it: no terminal on stdin."""
    return run(
        "./install.sh",
        *args,
        check=False,
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=900,
    )


def remove_images(images):
    if images:
        docker("rmi", "--force", *images, check=False)


@pytest.fixture(scope="session")
def engine():
    problem = engine_problem()
    if problem:
        skip_or_fail(problem)


def bake_and_build(request, cookies_session, base_image, deployment, https="none", **answers):
    """Bake a variant under a name of its own and build it (BuildKit); its
    images are removed at the end of the session. answers: more of them
    (database, worker), named in the label."""
    results = request.config.stash[BUILDS]
    label = f"{base_image}/{deployment}" + (f"/https-{https}" if https != "none" else "")
    label += "".join(f"/{key}-{value}" for key, value in answers.items())
    problem = base_image_problem(base_image)
    results[label] = problem or "the build failed"
    if problem:
        if stand_in(base_image):  # made here: not making it is a failure in CI
            skip_or_fail(f"{base_image}: {problem}")
        pytest.skip(f"{base_image}: {problem}")
    name = f"{RUN_PREFIX}-" + label.replace(":", "-").replace(".", "-").replace("/", "-")
    baked_port = free_port()
    bake = cookies_session.bake(
        extra_context={
            "project_name": name,
            "base_image": base_image,
            "deployment": deployment,
            "https": https,
            "ci": "none",
            "host_port": str(baked_port),
            **answers,
        }
    )
    assert bake.exit_code == 0, bake.exception
    built = Variant(base_image, deployment, bake.project_path, name, baked_port)
    request.addfinalizer(lambda: remove_images(built.images))
    if built.split:
        built.images = [f"{name}-app", f"{name}-proxy"]
        built.compose("build")
    else:
        built.images = [name]
        docker("build", "--tag", name, built.project)
    results[label] = None
    return built


@pytest.fixture(scope="session", params=VARIANTS, ids=variant_id)
def variant(request, engine, cookies_session):
    """The baked project of one variant (plain HTTP), built."""
    return bake_and_build(request, cookies_session, *request.param)


# With HTTPS, one container: install.sh makes a self-signed certificate;
# split: the user's certificate (one the test makes).
TLS_VARIANTS = [
    (base, deployment, "self-signed" if deployment == "single" else "provided")
    for base, deployment in VARIANTS
]


def tls_variant_id(params):
    return f"{variant_id(params[:2])}-https:{params[2]}"


@pytest.fixture(scope="session", params=TLS_VARIANTS, ids=tls_variant_id)
def tls_variant(request, engine, cookies_session):
    """The baked project of one variant with HTTPS on, built."""
    return bake_and_build(request, cookies_session, *request.param)


def only(deployment):
    """Run a test on the plain-HTTP variants of one deployment only."""
    params = [v for v in VARIANTS if v[1] == deployment]
    return pytest.mark.parametrize("variant", params, indirect=True, ids=variant_id)


def only_tls(deployment):
    """Run a test on the HTTPS variants of one deployment only."""
    params = [v for v in TLS_VARIANTS if v[1] == deployment]
    return pytest.mark.parametrize("tls_variant", params, indirect=True, ids=tls_variant_id)


@pytest.fixture(scope="session")
def served(variant):
    """The variant running for the whole session, for tests that only look."""
    with deployment(variant, f"{variant.name}-served") as running:
        yield running


@pytest.fixture
def fresh(variant, request):
    """A deployment of the variant of this test's own, for tests that break it."""
    with deployment(variant, f"{variant.name}-{request.node.originalname[5:]}"[:60]) as running:
        yield running
