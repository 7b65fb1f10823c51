"""The docker job's smoke step: the baked scripts/smoke-test.sh against a
local HTTP server standing in for the deployment's nginx."""

import http.server
import shutil
import ssl
import threading

import pytest
import yaml
from baked_ci import PLATFORMS, ci_env, commands, shell
from helpers import make_certificate, run, tool


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
