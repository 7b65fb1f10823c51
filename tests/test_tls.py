"""HTTPS in the baked project. In a real engine: the one-container deployment
through install.sh, with the self-signed certificate it makes or one of the
test's own, the split one through docker compose with the test's own;
verified requests, the redirect, old TLS refused, install.sh's refusals.
Without an engine: the swarm and Kubernetes files with HTTPS on (swarm in a
real engine: test_orchestration.py)."""

import json
import os
import shutil
import ssl
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from deployments import only_tls, run_install
from engine import docker, free_port, http_get_once, https_get, wait_serving
from helpers import IMAGE, IMAGE_SETTINGS, bake, make_certificate, run, tool
from manifests import container, render

TLS_PORT = int(IMAGE["container_tls_port"])
TLS_DIR = IMAGE["tls_dir"]
UID = IMAGE["uid"]
HSTS = IMAGE_SETTINGS["tls"]["NGINX_HSTS"]


@dataclass
class Secure:
    """A running HTTPS deployment: ports on 127.0.0.1, the nginx container,
    and the certificate a client should trust."""

    http_port: int
    https_port: int
    proxy: str
    cafile: Path


def container_exists(name):
    return docker("container", "inspect", name, check=False).returncode == 0


@contextmanager
def secure_deployment(variant, name, cert=None, key=None):
    http_port, https_port = free_port(), free_port()
    if not variant.split:
        # As a user: the image the variant built; without cert, the one install.sh makes.
        files = ["--cert", cert, "--key", key] if cert else []
        try:
            result = run_install(
                variant.project,
                *("--name", name, "--image", variant.name),
                *("--port", http_port, "--https-port", https_port),
                *files,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            assert f"https://localhost:{https_port}/" in result.stdout
            wait_serving(name, http_port)
            yield Secure(http_port, https_port, name, cert or variant.project / "certs/tls.crt")
        finally:
            docker("rm", "--force", name, check=False)
            docker("volume", "rm", f"{name}-data", check=False)
    else:
        env = {
            "HOST_PORT": str(http_port),
            "HTTPS_PORT": str(https_port),
            "TLS_CERT_FILE": str(cert),
            "TLS_KEY_FILE": str(key),
        }
        try:
            variant.compose("up", "--detach", project=name, env=env)
            proxy = variant.compose("ps", "--quiet", "proxy", project=name).stdout.strip()
            wait_serving(proxy, http_port)
            yield Secure(http_port, https_port, proxy, cert)
        finally:
            variant.compose("down", "--volumes", "--remove-orphans", project=name, check=False)


@pytest.fixture(scope="session")
def secure(tls_variant, certificate):
    key = certificate.with_name("tls.key")
    cert, key = (None, None) if not tls_variant.split else (certificate, key)
    with secure_deployment(tls_variant, f"{tls_variant.name}-secure", cert, key) as running:
        yield running


@pytest.mark.docker
def test_https_serves_with_a_verified_certificate(tls_variant, secure):
    status, headers, body, _ = https_get(secure.https_port, secure.cafile, "/api/hello")
    assert status == 200
    assert headers["Server"] == "nginx"
    assert headers["Strict-Transport-Security"] == HSTS
    assert json.loads(body) == {"message": f"Hello from {tls_variant.name}!"}


@pytest.mark.docker
@pytest.mark.varies_with("nginx")
def test_the_apps_pages_come_uncompressed_over_https(secure):
    """BREACH: over TLS, a compressed page's size can give away a secret it
    carries, so nginx sends the app's answers as they are; static files still
    come as their .gz."""
    gzip = {"Accept-Encoding": "gzip"}
    for path, encoding in (("/", None), (f"{IMAGE['static_url_path']}/style.css", "gzip")):
        status, headers, _, _ = https_get(secure.https_port, secure.cafile, path, headers=gzip)
        assert (status, headers["Content-Encoding"]) == (200, encoding), path


@pytest.mark.docker
@pytest.mark.varies_with("nginx")
def test_plain_http_redirects_to_https_but_for_health_and_ready(secure):
    status, headers, _ = http_get_once(secure.http_port, "/some/page?x=1")
    assert status == 301
    assert headers["Location"] == f"https://127.0.0.1:{secure.https_port}/some/page?x=1"
    assert "Strict-Transport-Security" not in headers  # only over HTTPS
    status, headers, body = http_get_once(secure.http_port, "/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, headers, body = http_get_once(secure.http_port, "/ready")
    assert (status, json.loads(body)) == (200, {"status": "ready"})


@pytest.mark.docker
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
@pytest.mark.varies_with("nginx")
def test_modern_tls_versions_are_accepted(secure, version):
    status, _, _, used = https_get(secure.https_port, secure.cafile, version=version)
    assert (status, used) == (200, version.name.replace("v1_", "v1."))


@pytest.mark.docker
@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
@pytest.mark.varies_with("nginx")
def test_older_tls_is_refused_by_the_server(secure, version):
    with pytest.raises(ssl.SSLError) as refused:
        https_get(secure.https_port, secure.cafile, version=version)
    # The server's alert, not this client declining to try.
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION", refused.value


@pytest.mark.docker
@pytest.mark.varies_with("nginx")
def test_nginx_config_with_tls_is_valid_in_the_container(secure):
    docker("exec", secure.proxy, "nginx", "-t", "-q")
    mounts = json.loads(docker("inspect", "--format", "{{json .Mounts}}", secure.proxy).stdout)
    tls_mounts = {m["Destination"]: m["RW"] for m in mounts if m["Destination"].startswith(TLS_DIR)}
    assert tls_mounts == {f"{TLS_DIR}/tls.crt": False, f"{TLS_DIR}/tls.key": False}


@pytest.mark.docker
@pytest.mark.varies_with("nginx")
def test_nothing_listens_on_the_tls_port_without_tls(served):
    def connects(port):
        probe = f"exec 3<>/dev/tcp/127.0.0.1/{port}"
        return docker("exec", served.proxy, "bash", "-c", probe, check=False).returncode == 0

    assert connects(IMAGE["container_port"])  # the probe works
    assert not connects(TLS_PORT)


def fingerprint(cert):
    return run(tool("openssl"), "x509", "-noout", "-fingerprint", "-in", cert).stdout


@pytest.mark.docker
@only_tls("single")
@pytest.mark.varies_with()
def test_install_makes_a_git_ignored_self_signed_certificate_once(tls_variant, secure):
    certs = tls_variant.project / "certs"
    assert "certs/" in (tls_variant.project / ".gitignore").read_text().splitlines()
    made = fingerprint(certs / "tls.crt")
    key = (certs / "tls.key").stat()
    if os.geteuid() == 0:  # shared with nginx's group only
        assert (key.st_gid, key.st_mode & 0o777) == (int(UID), 0o640)
    else:  # no chgrp without root: readable by all, a development key
        assert key.st_mode & 0o777 == 0o644
    with secure_deployment(tls_variant, f"{tls_variant.name}-again") as again:
        assert https_get(again.https_port, again.cafile)[0] == 200
    assert fingerprint(certs / "tls.crt") == made, "a valid certificate is kept"


@pytest.mark.docker
@only_tls("single")
@pytest.mark.varies_with()
def test_install_serves_the_users_certificate(tls_variant, certificate):
    key = certificate.with_name("tls.key")
    with secure_deployment(tls_variant, f"{tls_variant.name}-own", certificate, key) as own:
        status, _, _, _ = https_get(own.https_port, certificate)
        assert status == 200
        mounted = docker("exec", own.proxy, "cat", f"{TLS_DIR}/tls.crt").stdout
        assert mounted == certificate.read_text()


@pytest.mark.docker
@only_tls("single")
@pytest.mark.varies_with()
def test_a_bad_certificate_leaves_the_running_service_alone(tls_variant, secure, tmp_path):
    running = docker("inspect", "--format", "{{.Id}}", secure.proxy).stdout
    other_key = make_certificate(tmp_path / "other").with_name("tls.key")
    flags = ["--name", secure.proxy, "--image", tls_variant.name]
    result = run_install(tls_variant.project, *flags, "--cert", secure.cafile, "--key", other_key)
    assert result.returncode == 1
    assert docker("inspect", "--format", "{{.Id}}", secure.proxy).stdout == running
    assert https_get(secure.https_port, secure.cafile)[0] == 200


@pytest.fixture
def refusal(tls_variant, tmp_path):
    """install.sh with certificate files the test breaks; no container may result."""
    name = f"{tls_variant.name}-refused"
    cert = make_certificate(tmp_path / "mine")
    other = make_certificate(tmp_path / "other")

    def attempt(cert_file, key_file):
        result = run_install(
            tls_variant.project, "--name", name, "--image", tls_variant.name,
            "--port", free_port(), "--https-port", free_port(),
            "--cert", cert_file, "--key", key_file,
        )  # fmt: skip
        assert result.returncode == 1
        assert not container_exists(name)
        # One line of install.sh's own (the build before it may print more).
        [line] = [line for line in result.stderr.splitlines() if line.startswith("install.sh")]
        return line

    try:
        yield attempt, cert, cert.with_name("tls.key"), other.with_name("tls.key")
    finally:
        docker("rm", "--force", name, check=False)


@pytest.mark.docker
@only_tls("single")
@pytest.mark.varies_with()
def test_install_refuses_a_missing_certificate(refusal, tmp_path):
    attempt, _, key, _ = refusal
    missing = tmp_path / "nowhere.crt"
    assert attempt(missing, key) == (
        f"install.sh: no certificate at {missing}: pass --cert FILE --key FILE"
    )


@pytest.mark.docker
@only_tls("single")
@pytest.mark.varies_with()
def test_install_refuses_a_key_of_another_certificate(refusal):
    attempt, cert, _, other_key = refusal
    assert attempt(cert, other_key) == f"install.sh: {other_key} is not the private key of {cert}"


@pytest.mark.docker
@only_tls("single")
@pytest.mark.varies_with()
def test_install_refuses_a_key_nginx_cannot_read(refusal):
    attempt, cert, key, _ = refusal
    key.chmod(0o600)  # root's alone: the container's uid cannot open it
    assert attempt(cert, key).startswith(f"install.sh: uid {UID} cannot read {key}: ")


@pytest.mark.docker
@only_tls("split")
@pytest.mark.varies_with()
def test_compose_without_the_certificate_fails_cleanly(tls_variant):
    name = f"{tls_variant.name}-nocert"
    env = {"HOST_PORT": str(free_port()), "HTTPS_PORT": str(free_port())}
    try:
        up = tls_variant.compose("up", "--detach", project=name, env=env, check=False)
        assert up.returncode != 0
    finally:
        tls_variant.compose("down", "--volumes", "--remove-orphans", project=name, check=False)
    # A short-syntax bind would have made a folder where the certificate belongs.
    assert not (tls_variant.project / "certs").exists()


# --- Swarm and Kubernetes files with HTTPS (no engine needed) ----------------


@pytest.fixture(scope="module")
def tls_project(cookies_session):
    return bake(cookies_session, project_name="Shop", deployment="split", https="provided")


def test_stack_file_mounts_the_certificate_as_secrets(tls_project):
    stack = tls_project / "deploy" / "docker-stack.yml"
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", stack)
    config = yaml.safe_load(stack.read_text())
    proxy = config["services"]["proxy"]
    targets = {secret["target"]: secret["uid"] for secret in proxy["secrets"]}
    assert targets == {f"{TLS_DIR}/tls.crt": UID, f"{TLS_DIR}/tls.key": UID}
    assert {port["target"] for port in proxy["ports"]} == {
        int(IMAGE["container_port"]),
        TLS_PORT,
    }
    # Every secret of the stack is mounted: the proxy's, and the app's key.
    app = config["services"]["app"]
    assert set(config["secrets"]) == {s["source"] for s in proxy["secrets"] + app["secrets"]}


def test_k8s_proxy_mounts_the_tls_secret(tls_project, tmp_path):
    # kustomize wants relative paths
    shutil.copytree(tls_project / "deploy" / "k8s", tmp_path / "k8s")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "resources: [../k8s]\ncomponents: [../k8s/ingress]\n"
    )
    manifests = render(tmp_path, overlay)
    pod = manifests["Deployment", "proxy"]["spec"]["template"]["spec"]
    [secret] = [v["secret"] for v in pod["volumes"] if "secret" in v]
    assert secret == {"secretName": "proxy-tls", "defaultMode": 0o440}
    assert pod["securityContext"]["fsGroup"] == int(UID)  # nginx's group may read the key
    proxy = container(manifests, "proxy")
    [mount] = [m for m in proxy["volumeMounts"] if m["mountPath"] == TLS_DIR]
    assert mount["readOnly"] is True
    assert {"name": "https", "containerPort": TLS_PORT} in proxy["ports"]
    ports = {p["name"]: p["port"] for p in manifests["Service", "proxy"]["spec"]["ports"]}
    assert ports == {"http": 80, "https": 443}
    # Plain HTTP redirects to the Service's port 443: the image's default.
    assert IMAGE_SETTINGS["tls"]["NGINX_HTTPS_REDIRECT_PORT"] == "443"
    assert "NGINX_HTTPS_REDIRECT_PORT" not in {item["name"] for item in proxy["env"]}
    ingress = manifests["Ingress", "proxy"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["port"] == {"name": "https"}
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/backend-protocol"] == "HTTPS"


@pytest.mark.docker
@pytest.mark.varies_with("nginx")
def test_http2_over_https(secure):
    """curl, which speaks HTTP/2, gets it negotiated (ALPN h2) and a 200; plain
    HTTP stays HTTP/1.1."""
    assert "HTTP2" in run("curl", "--version").stdout, "this curl has no HTTP/2"
    https = f"https://127.0.0.1:{secure.https_port}/api/hello"
    answer = run("curl", "--http2", "--insecure", "--silent", "--output", "/dev/null",
                 "--write-out", "%{http_version} %{response_code}", https).stdout  # fmt: skip
    assert answer == "2 200"
    http = f"http://127.0.0.1:{secure.http_port}/health"
    answer = run("curl", "--silent", "--output", "/dev/null",
                 "--write-out", "%{http_version} %{response_code}", http).stdout  # fmt: skip
    assert answer == "1.1 200"
