"""The split deployment beyond `docker compose up`: app replicas added and removed
under traffic, a swarm stack with a rolling update, the Kubernetes manifests."""

import collections
import http.client
import json
import re
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import yaml
from deployments import VARIANTS, deployment, only_tls, settings_file, variant_id
from engine import docker, free_port, http_get, https_get, wait_healthy
from helpers import IMAGE, IMAGE_SETTINGS, LOG_OPTIONS, bake, run, tool
from manifests import container, render

# The split variants only: the one-container deployment has none of these files.
on_split_variants = pytest.mark.parametrize(
    "variant", [v for v in VARIANTS if v[1] == "split"], indirect=True, ids=variant_id
)
APP_PORT = int(IMAGE["app_port"])
CONTAINER_PORT = int(IMAGE["container_port"])
# nginx asks DNS for the app replicas again after this many seconds.
DNS_CACHE = 10


# --- Traffic while the deployment changes -------------------------------------


@dataclass
class Load:
    """What a steady client saw: status codes or error names, and counts."""

    seen: collections.Counter = field(default_factory=collections.Counter)
    slowest: float = 0.0

    @property
    def total(self):
        return sum(self.seen.values())

    def __str__(self):
        return f"{self.total} requests {dict(self.seen)}, slowest {self.slowest:.2f} s"


@contextmanager
def traffic(port, limit=300, pause=0.02):
    """GET / on 127.0.0.1:port, one request at a time with a short pause
    (about 40 a second), on a thread, until the block ends or `limit` s pass."""
    load, stop = Load(), threading.Event()

    def loop():
        deadline = time.monotonic() + limit
        while not stop.is_set() and time.monotonic() < deadline:
            start = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                connection.request("GET", "/")
                load.seen[connection.getresponse().status] += 1
            except (OSError, http.client.HTTPException) as error:
                load.seen[type(error).__name__] += 1
            finally:
                connection.close()
            load.slowest = max(load.slowest, time.monotonic() - start)
            stop.wait(pause)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield load
    finally:
        stop.set()
        thread.join()
    print(load)


def accepted(container):
    """TCP connections the container has accepted (its network namespace's
    PassiveOpens): proof that the proxy sends it requests."""
    lines = docker("exec", container, "cat", "/proc/net/snmp").stdout.splitlines()
    names, values = (line.split() for line in lines if line.startswith("Tcp:"))
    return int(dict(zip(names, values, strict=True))["PassiveOpens"])


def assert_all_serve(apps, seconds=5):
    """Each app container gets requests through the proxy (a healthcheck adds
    at most one connection in that time)."""
    before = {app: accepted(app) for app in apps}
    time.sleep(seconds)
    served = {app[:12]: accepted(app) - count for app, count in before.items()}
    assert all(count >= 10 for count in served.values()), served


# --- Compose ------------------------------------------------------------------


@pytest.mark.docker
@on_split_variants
@pytest.mark.varies_with()
def test_compose_scales_the_app_without_a_failed_request(variant):
    name = f"{variant.name}-scale"
    with deployment(variant, name) as running:
        assert http_get(f"{running.url}/")[0] == 200

        def scale(replicas):
            # --no-recreate: the proxy and the running replicas stay as they are.
            flags = ["--detach", "--scale", f"app={replicas}", "--no-recreate"]
            variant.compose("up", *flags, project=name, env={"HOST_PORT": str(running.port)})
            apps = variant.compose("ps", "--quiet", "app", project=name).stdout.split()
            assert len(apps) == replicas
            return apps

        with traffic(running.port) as load:
            apps = scale(3)
            for app in apps:
                wait_healthy(app)
            time.sleep(DNS_CACHE + 2)
            assert_all_serve(apps)
            # Two go away: nginx still holds their addresses for up to 10 s.
            assert len(scale(1)) == 1
            time.sleep(DNS_CACHE + 2)
        assert variant.compose("ps", "--quiet", "proxy", project=name).stdout.strip() == (
            running.proxy
        )
    assert load.seen == {200: load.total} and load.total > 500, load


# --- Swarm --------------------------------------------------------------------


def swarm_state():
    return docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()


@pytest.fixture
def swarm(engine):
    """A one-node swarm of this test's own, left again afterwards."""
    if swarm_state() != "inactive":
        pytest.skip(f"the engine is already in a swarm ({swarm_state()}); not ours to leave")
    had_gateway = docker("network", "inspect", "docker_gwbridge", check=False).returncode == 0
    # Only on the loopback: no other machine can join.
    address = f"127.0.0.1:{free_port()}"
    init = docker(
        "swarm", "init", "--advertise-addr", address, "--listen-addr", address, check=False
    )
    if init.returncode != 0:
        pytest.skip(f"docker swarm init fails on this engine: {init.stderr.strip()}")
    try:
        yield
    finally:
        docker("swarm", "leave", "--force", check=False)
        # Made by swarm init and kept by swarm leave.
        if not had_gateway:
            docker("network", "rm", "docker_gwbridge", check=False)
        assert swarm_state() == "inactive", "docker swarm leave failed"


def stack_containers(stack, service=None, *filters):
    label = f"com.docker.stack.namespace={stack}"
    if service:
        label = f"com.docker.swarm.service.name={stack}_{service}"
    args = ["--filter", f"label={label}", *(f"--filter={f}" for f in filters)]
    return docker("ps", "--all", "--quiet", *args).stdout.split()


def wait_for(what, check, timeout=180):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)
    return result


def remove_stack(stack):
    docker("stack", "rm", stack, check=False)
    label = f"label=com.docker.stack.namespace={stack}"
    wait_for(
        f"stack {stack} to go",
        lambda: (
            not stack_containers(stack)
            and not docker("network", "ls", "--quiet", "--filter", label).stdout.strip()
        ),
        timeout=120,  # tasks stop gracefully, then swarm removes the network
    )
    volumes = docker("volume", "ls", "--quiet", "--filter", label).stdout.split()
    if volumes:
        docker("volume", "rm", *volumes)


def deploy_stack(variant, stack, env):
    # Swarm needs the secrets as files first (README.md), unlike compose.
    run("scripts/make-secrets.sh", cwd=variant.project)
    # No registry here: the variant's images on this node, by their baked names.
    with settings_file(variant.project, env) as rest:
        docker(
            *("stack", "deploy", "--resolve-image", "never"),
            *("--compose-file", "deploy/docker-stack.yml", stack),
            cwd=variant.project,
            env=rest,
        )


def healthy_apps(stack, replicas):
    apps = stack_containers(stack, "app", "status=running", "health=healthy")
    return apps if len(apps) == replicas else None


@pytest.mark.docker
@on_split_variants
@pytest.mark.varies_with()
def test_swarm_rolling_update_without_a_failed_request(variant, swarm):
    stack, port = f"{variant.name}-stack", free_port()

    try:
        deploy_stack(variant, stack, {"HOST_PORT": str(port)})
        apps = wait_for("2 healthy app tasks", lambda: healthy_apps(stack, 2))
        assert http_get(f"http://127.0.0.1:{port}/", timeout=120)[0] == 200
        [proxy] = stack_containers(stack, "proxy", "status=running")
        for container in (proxy, *apps):
            inspect = docker("inspect", "--format", "{{json .HostConfig}}", container).stdout
            host = json.loads(inspect)
            assert host["CapDrop"] == ["ALL"], host["CapDrop"]
            assert host["PidsLimit"] == int(IMAGE["pids_limit"])
            assert host["Memory"] == 0 and host["NanoCpus"] == 0  # unless set
        # dnsrr: the service name resolves to each task, no virtual IP (IPVS).
        resolved = docker("exec", proxy, "getent", "ahostsv4", "app").stdout.split("\n")
        assert len({line.split()[0] for line in resolved if line}) == 2, resolved

        with traffic(port) as load:
            time.sleep(DNS_CACHE)
            assert_all_serve(apps)
            # A changed app setting rolls out one task at a time, start-first.
            # (In .env it would reach the proxy too, replaced stop-first.)
            setting = ["--env-add", "UWSGI_PROCESSES=3"]
            docker("service", "update", "--detach", *setting, f"{stack}_app")

            def update_state():
                status = docker(
                    "service", "inspect", "--format", "{{json .UpdateStatus}}", f"{stack}_app"
                )
                state = (json.loads(status.stdout) or {}).get("State")
                assert state in {None, "updating", "completed"}, status.stdout
                return state == "completed"

            wait_for("the rolling update", update_state)
        new = wait_for("2 healthy updated app tasks", lambda: healthy_apps(stack, 2))
        assert set(new).isdisjoint(apps)
        for app in new:
            env = docker("inspect", "--format", "{{json .Config.Env}}", app).stdout
            assert '"UWSGI_PROCESSES=3"' in env
        assert stack_containers(stack, "proxy", "status=running") == [proxy]
        assert load.seen == {200: load.total} and load.total > 500, load
    finally:
        remove_stack(stack)


@pytest.mark.docker
@only_tls("split")
@pytest.mark.varies_with()
def test_swarm_serves_https_with_the_certificate_as_secrets(tls_variant, swarm, certificate):
    stack = f"{tls_variant.name}-stack"
    http_port, https_port = free_port(), free_port()
    env = {
        "HOST_PORT": str(http_port),
        "HTTPS_PORT": str(https_port),
        "TLS_CERT_FILE": str(certificate),
        "TLS_KEY_FILE": str(certificate.with_name("tls.key")),
    }
    try:
        deploy_stack(tls_variant, stack, env)
        [proxy] = wait_for("the proxy", lambda: stack_containers(stack, "proxy", "status=running"))
        wait_for("2 healthy app tasks", lambda: healthy_apps(stack, 2))
        time.sleep(DNS_CACHE)  # nginx may have cached "no app yet" for this long
        status, headers, _, _ = https_get(https_port, certificate)
        assert (status, headers["Server"]) == (200, "nginx")
        # The secrets are nginx's alone: its uid, read-only for it.
        key = f"{IMAGE['tls_dir']}/tls.key"
        owner = docker("exec", proxy, "stat", "--format", "%u %a", key).stdout.split()
        assert owner == [IMAGE["uid"], "400"]
    finally:
        remove_stack(stack)
    assert not docker("secret", "ls", "--quiet", "--filter", f"name={tls_variant.name}").stdout


# --- Files for swarm and Kubernetes (no engine needed) -----------------------


@pytest.fixture(scope="module")
def project(cookies_session):
    """A split project whose images live under a registry path."""
    image = "registry.example.com:5000/acme/shop"
    return bake(
        cookies_session, project_name="Shop", deployment="split", ci="none", image_name=image
    )


def stack_services(stack):
    """The services of a stack file as `docker stack config` reads them (with
    ../.env), or a skip where the docker client has no such command."""
    config = run(tool("docker"), "stack", "config", "--compose-file", stack, check=False)
    if "Usage:" in config.stderr:
        pytest.skip("this docker client has no `docker stack config`")
    assert config.returncode == 0 and not config.stderr, config.stderr
    return yaml.safe_load(config.stdout)["services"]


def test_stack_file_matches_the_compose_schema(project):
    stack = project / "deploy" / "docker-stack.yml"
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", stack)


def test_stack_file_loads_as_docker_stack_deploy_reads_it(project):
    # The docker client's own loader (no engine needed); it warns of ignored keys.
    # The settings file must exist, empty at least, as docs/swarm.md says.
    stack = project / "deploy" / "docker-stack.yml"
    (project / ".env").write_text("UWSGI_LISTEN=2048\n")
    services = stack_services(stack)
    assert services["app"]["image"] == "registry.example.com:5000/acme/shop-app:latest"
    assert services["app"]["deploy"]["update_config"]["order"] == "start-first"
    assert services["app"]["environment"]["UWSGI_LISTEN"] == "2048"
    for service in services.values():
        assert service["cap_drop"] == ["ALL"]
        assert service["deploy"]["resources"]["limits"]["pids"] == int(IMAGE["pids_limit"])
        assert service["logging"] == {"driver": "json-file", "options": LOG_OPTIONS}


def test_k8s_base_fits_the_images(project, tmp_path):
    manifests = render(tmp_path, project / "deploy" / "k8s")
    assert set(manifests) == {
        ("Deployment", "app"),
        ("Deployment", "proxy"),
        ("Service", "app"),
        ("Service", "proxy"),
        ("HorizontalPodAutoscaler", "app"),
    }
    app, proxy = container(manifests, "app"), container(manifests, "proxy")
    assert app["image"] == "registry.example.com:5000/acme/shop-app:latest"
    # The app speaks only uwsgi: its probes are the image's healthcheck.py,
    # ready by /ready (its database), alive by /health (its process).
    healthcheck = ["python3", "/srv/healthcheck.py"]
    assert app["readinessProbe"]["exec"]["command"] == [*healthcheck, "/ready"]
    assert app["livenessProbe"]["exec"]["command"] == healthcheck
    assert app["ports"] == [{"name": "uwsgi", "containerPort": APP_PORT}]
    assert proxy["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert proxy["ports"] == [{"name": "http", "containerPort": CONTAINER_PORT}]
    assert manifests["Service", "app"]["spec"]["ports"][0]["port"] == APP_PORT
    settings = {item["name"]: item.get("value") for item in proxy["env"]}
    assert settings["NGINX_APP_UPSTREAM"].endswith(f".svc.cluster.local:{APP_PORT}")
    names = set(settings) - {"POD_NAMESPACE"}
    readable = {*IMAGE_SETTINGS["nginx"], *IMAGE_SETTINGS["proxy"]}
    assert names <= readable, "a setting the image does not read"
    # Non-root, read-only root filesystem, /tmp the only writable path but data.
    for name, spec in ("app", app), ("proxy", proxy):
        pod = manifests["Deployment", name]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == int(IMAGE["uid"])
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["readOnlyRootFilesystem"] is True
        assert spec["resources"]["limits"]["memory"]
        mounts = {m["mountPath"] for m in spec["volumeMounts"] if not m.get("readOnly")}
        assert mounts == ({"/tmp", IMAGE["data_dir"]} if name == "app" else {"/tmp"})
    # The app's secret key: the Secret's file, read-only, at SECRET_KEY_FILE.
    [key] = [m for m in app["volumeMounts"] if m.get("readOnly")]
    assert (key["mountPath"], key["subPath"]) == (IMAGE["secret_key_file"], "secret_key")
    volumes = manifests["Deployment", "app"]["spec"]["template"]["spec"]["volumes"]
    [secret] = [volume["secret"] for volume in volumes if volume["name"] == key["name"]]
    assert secret["secretName"] == "app-secret-key"
    # The autoscaler owns the app's replica count.
    assert "replicas" not in manifests["Deployment", "app"]["spec"]
    target = manifests["HorizontalPodAutoscaler", "app"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "app")


def test_k8s_overlay_in_the_docs_renders(project, tmp_path):
    """The overlay docs/kubernetes.md shows: a namespace, pushed images, the Ingress."""
    readme = (project / "docs" / "kubernetes.md").read_text()
    [text] = re.findall(
        r"`deploy/production/kustomization.yaml`:\n\n```yaml\n(.*?)```", readme, re.S
    )
    shutil.copytree(project / "deploy" / "k8s", tmp_path / "deploy" / "k8s")
    overlay = tmp_path / "deploy" / "production"
    overlay.mkdir(parents=True)
    text = text.replace("REGISTRY/NAMESPACE", "registry.example.org/team")
    (overlay / "kustomization.yaml").write_text(text)
    manifests = render(tmp_path, overlay)
    assert {doc["metadata"]["namespace"] for doc in manifests.values()} == {"shop"}
    [rule] = manifests["Ingress", "proxy"]["spec"]["rules"]
    assert rule["host"] == "www.example.org"
    assert rule["http"]["paths"][0]["backend"]["service"] == {
        "name": "proxy",
        "port": {"name": "http"},
    }
    for name in "app", "proxy":
        image = container(manifests, name)["image"]
        assert image == f"registry.example.org/team/shop-{name}:sha-0123456789ab"


@pytest.fixture(scope="module")
def postgres_project(cookies_session):
    return bake(cookies_session, project_name="Shop db", deployment="split", database="postgres")


def test_orchestrators_migrate_once_against_your_database(postgres_project, tmp_path):
    """Swarm and Kubernetes run no PostgreSQL: the app and a one-off migration
    (a swarm job, a Kubernetes Job) reach the user's database."""
    project = postgres_project
    (project / ".env").write_text("DATABASE_URL=postgresql+psycopg://shop@db.example.org/shop\n")
    stack = project / "deploy" / "docker-stack.yml"
    services = stack_services(stack)
    assert "db" not in services
    migrate = services["migrate"]
    assert migrate["command"] == ["flask", "db", "upgrade"]
    assert migrate["deploy"]["mode"] == "replicated-job"
    assert migrate["image"] == services["app"]["image"]
    assert migrate["secrets"] == services["app"]["secrets"]
    targets = {secret["target"] for secret in services["app"]["secrets"]}
    assert targets == {IMAGE["secret_key_file"], IMAGE["db_password_file"]}

    manifests = render(tmp_path, project / "deploy" / "k8s")
    assert not [kind for kind, _ in manifests if kind == "StatefulSet"]
    [job] = manifests["Job", "migrate"]["spec"]["template"]["spec"]["containers"]
    assert job["args"] == ["flask", "db", "upgrade"]
    assert job["image"] == container(manifests, "app")["image"]
    assert job["env"] == container(manifests, "app")["env"]
    # One key for pods on every node: given, never made in a pod's volume.
    generate, url = job["env"]
    assert generate == {"name": "SECRET_KEY_GENERATE", "value": "false"}
    assert url["valueFrom"]["secretKeyRef"] == {"name": "app-database", "key": "url"}
    assert migrate["environment"] == services["app"]["environment"]
    assert services["app"]["environment"]["SECRET_KEY_GENERATE"] == "false"


@pytest.fixture(scope="module")
def worker_project(cookies_session):
    return bake(cookies_session, project_name="Shop jobs", deployment="split",
                database="postgres", worker="celery")  # fmt: skip


def test_orchestrators_run_the_worker_with_your_broker(worker_project, tmp_path):
    """Swarm and Kubernetes run the worker and one beat, the app's image with
    Celery's commands, and no broker: all reach the user's Redis."""
    project = worker_project
    (project / ".env").write_text("BROKER_URL=redis://redis.example.org:6379/0\n")
    stack = project / "deploy" / "docker-stack.yml"
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", stack)
    services = stack_services(stack)
    assert "broker" not in services
    worker = services["worker"]
    assert worker["command"][:4] == ["celery", "--app", "app.tasks", "worker"]
    assert worker["image"] == services["app"]["image"]
    assert worker["secrets"] == services["app"]["secrets"]
    assert worker["environment"]["BROKER_URL"] == "redis://redis.example.org:6379/0"
    targets = {secret["target"] for secret in worker["secrets"]}
    assert IMAGE["broker_password_file"] in targets
    assert worker["cap_drop"] == ["ALL"]
    assert worker["deploy"]["resources"]["limits"]["pids"] == int(IMAGE["pids_limit"])
    beat = services["beat"]
    assert beat["command"][:4] == ["celery", "--app", "app.tasks", "beat"]
    assert (beat["image"], beat["deploy"]["replicas"]) == (worker["image"], 1)
    assert beat["environment"]["BROKER_URL"] == worker["environment"]["BROKER_URL"]
    assert IMAGE["broker_password_file"] in {secret["target"] for secret in beat["secrets"]}

    manifests = render(tmp_path, project / "deploy" / "k8s")
    pod = manifests["Deployment", "worker"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == int(IMAGE["uid"])
    job = container(manifests, "worker")
    assert job["image"] == container(manifests, "app")["image"]
    assert job["args"][:4] == ["celery", "--app", "app.tasks", "worker"]
    assert job["securityContext"]["readOnlyRootFilesystem"] is True
    beat = manifests["Deployment", "beat"]["spec"]
    assert (beat["replicas"], beat["strategy"]["type"]) == (1, "Recreate")
    assert container(manifests, "beat")["args"][:4] == ["celery", "--app", "app.tasks", "beat"]
    for name in "app", "worker", "beat":
        env = {item["name"]: item for item in container(manifests, name)["env"]}
        broker = env["BROKER_URL"]["valueFrom"]["secretKeyRef"]
        assert broker == {"name": "app-broker", "key": "url"}
        assert ("DATABASE_URL" in env) == (name != "beat")
