"""Certificates from an ACME CA (`https: acme`), from Let's Encrypt's test CA
Pebble (tests/acme.py), on Debian trixie: one container through install.sh,
and split under docker compose, set up with the documented settings only
(ACME_DOMAINS, ACME_EMAIL, ACME_DIRECTORY, ACME_CA_BUNDLE and
ACME_CHECK_INTERVAL in .env; compose takes two of them from the shell).
Pebble validates HTTP-01 for real, against the port the deployment publishes.

One install is shared by the tests that do not change it (`site`): it starts
while Pebble is not yet up, so it also shows the temporary certificate and the
retries, then gets its certificate once Pebble starts."""

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from acme import (
    DOMAIN,
    PEBBLE_VERSION,
    Connection,
    Pebble,
    certificate_field,
    client_context,
    handshake,
    make_pebble,
    pebble_image,
    serial,
)
from deployments import bake_and_build, run_install
from engine import docker, free_port, processes, wait_serving, wait_until
from helpers import IMAGE, RUN_PREFIX, make_certificate, run, tool
from traffic import Loop

BASE = "debian:trixie-slim"
# The CA without renewal information (ARI), beside the site's.
OLDER_PEBBLE = "2.4.0"
# Made in the background while earlier Docker tests run (deployments.py).
STAND_INS = [make_pebble(PEBBLE_VERSION), make_pebble(OLDER_PEBBLE)]
UID = IMAGE["uid"]
ACME_DIR = "/srv/data/acme"
# Seconds between checks, and the longest wait before a retry after a failure.
CHECK_INTERVAL = 5


@pytest.fixture(scope="module")
def pebble_ready(engine):
    return pebble_image()


@pytest.fixture(scope="module")
def single(request, engine, cookies_session):
    return bake_and_build(request, cookies_session, BASE, "single", "acme")


@pytest.fixture(scope="module")
def split(request, engine, cookies_session):
    return bake_and_build(request, cookies_session, BASE, "split", "acme")


def write_settings(project, pebble, shell=(), **more):
    """The project's .env as its user writes it for this CA; the settings
    named in shell are left out of it and returned, for the shell to give."""
    settings = {
        "ACME_DOMAINS": DOMAIN,
        "ACME_EMAIL": "admin@example.org",
        "ACME_DIRECTORY": pebble.directory,
        "ACME_CA_BUNDLE": pebble.ca_bundle,
        "ACME_CHECK_INTERVAL": CHECK_INTERVAL,
        **more,
    }
    given = {name: str(settings.pop(name)) for name in shell}
    (project / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    return given


def log_lines(container):
    logs = docker("logs", container, check=False)
    return (logs.stdout + logs.stderr).splitlines()


def failed_attempts(container):
    """The log's lines of failed tries (each starts `acme-renew:`; the line
    about the temporary certificate is not one)."""
    return [
        line
        for line in log_lines(container)
        if line.startswith("acme-renew:") and "temporary" not in line
    ]


def wait_for_certificate(container, port, root, pebble, timeout=60):
    """Until the deployment serves a certificate whose chain leads to Pebble's
    root; its PEM."""
    served = []

    def issued():
        try:
            served[:] = [handshake(port, root)[0]]
            return True
        except OSError:
            return False

    try:
        wait_until(container, issued, f"certificate from Pebble on port {port}", timeout)
    except AssertionError as error:
        raise AssertionError(f"{error}\nPebble:\n{pebble.logs()[-4000:]}") from None
    return served[0]


def wait_checked(container, pebble, timeout=30):
    """Until the deployment's ACME loop has run uacme twice from now (so once
    in full): its first check after a start has decided."""
    fetches = pebble.directory_fetches()
    wait_until(
        container,
        lambda: pebble.directory_fetches() >= fetches + 2,
        "two ACME checks",
        timeout,
    )


@dataclass
class Site:
    """The one-container deployment, installed while the CA was down, then
    served the CA's certificate."""

    name: str
    http_port: int
    https_port: int
    pebble: Pebble
    root: Path  # Pebble's issuing root
    temporary: str  # the certificate served before the CA answered (PEM)
    said: list  # the container's log lines saying so
    attempts: list  # the failed tries' log lines then
    smoke: object  # scripts/smoke-test.sh --insecure then (the baked CI's check)
    issued: str  # the CA's certificate, once served (PEM)


@pytest.fixture(scope="module")
def site(single, pebble_ready, tmp_path_factory):
    folder = tmp_path_factory.mktemp("acme-single")
    http_port, https_port = free_port(), free_port()
    name = f"{RUN_PREFIX}-acme-single"
    pebble = Pebble(folder / "pebble", http_port)
    write_settings(single.project, pebble)
    try:
        result = run_install(
            single.project, "--name", name, "--image", single.name,
            "--port", http_port, "--https-port", https_port,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        wait_serving(name, http_port)
        # The CA is not up yet: the temporary certificate, and retries.
        # (uacme takes 15 s to give up on an unreachable CA.)
        wait_until(name, lambda: failed_attempts(name), "a failed try", 60)
        temporary = handshake(https_port)[0]
        attempts = failed_attempts(name)
        said = [
            line
            for line in log_lines(name)
            if line.startswith("acme-renew:") and "temporary" in line
        ]
        smoke = run(
            single.project / "scripts" / "smoke-test.sh", "--insecure",
            f"https://127.0.0.1:{https_port}", check=False,
        )  # fmt: skip
        pebble.start()
        root = folder / "pebble-root.pem"
        root.write_text(pebble.root())
        issued = wait_for_certificate(name, https_port, root, pebble)
        yield Site(
            name, http_port, https_port, pebble, root, temporary, said, attempts, smoke, issued
        )
    finally:
        pebble.close()
        docker("rm", "--force", name, check=False)
        docker("volume", "rm", f"{name}-data", check=False)
        (single.project / ".env").unlink(missing_ok=True)


@pytest.mark.docker
def test_a_fresh_install_serves_the_cas_certificate_over_https_and_http2(site):
    pem, protocol = handshake(site.https_port, site.root)  # the chain leads to Pebble's root
    assert protocol == "h2"
    assert serial(pem) in site.pebble.issued()
    assert site.pebble.orders() == 1
    # A verified request, over HTTP/2, as a browser of app.test makes it.
    url = f"https://{DOMAIN}:{site.https_port}/api/hello"
    answer = run(
        "curl", "--http2", "--silent", "--show-error", "--cacert", site.root,
        "--resolve", f"{DOMAIN}:{site.https_port}:127.0.0.1", "--output", "/dev/null",
        "--write-out", "%{http_version} %{response_code}", url,
    ).stdout  # fmt: skip
    assert answer == "2 200"


@pytest.mark.docker
def test_e_while_the_ca_is_unreachable_a_temporary_certificate_serves_and_tries_repeat(site):
    """The site's install started before Pebble: a self-signed certificate for
    the domain served, one `acme-renew:` line per failed try, and the retry
    got the certificate once Pebble was up."""
    assert certificate_field(site.temporary, "issuer") == certificate_field(
        site.temporary, "subject"
    ) == f"CN={DOMAIN}"  # fmt: skip
    assert len(site.said) == 1, site.said
    assert len(site.attempts) >= 1, site.attempts
    assert all(site.pebble.directory.split("/dir")[0] in line for line in site.attempts), (
        site.attempts
    )
    assert not any(line.startswith("uacme") for line in log_lines(site.name))
    assert serial(site.issued) in site.pebble.issued()
    # What the baked CI checks, where no CA answers: the site serves meanwhile.
    assert site.smoke.returncode == 0, site.smoke.stdout + site.smoke.stderr
    assert "200 / (server: nginx)" in site.smoke.stdout


@pytest.mark.docker
def test_the_cas_renewal_information_decides_else_the_days_left(site, tmp_path):
    """ACME_RENEW_DAYS above a certificate's whole life: a check renews from a
    CA without renewal information (ARI: Pebble 2.4.0, bookworm's), and not
    from one whose ARI says not yet (2.6.0, trixie's, the site's CA)."""
    if site.pebble.image != "flask-docker-test/pebble:2.6.0":
        pytest.skip(f"the site's CA is {site.pebble.image}, not 2.6.0, which has ARI")
    orders = site.pebble.orders()
    due = ["--env", "ACME_RENEW_DAYS=100000"]
    docker("exec", *due, site.name, "acme-renew")
    assert site.pebble.orders() == orders, "ARI says not yet: no order"
    pebble_image(OLDER_PEBBLE)
    with Pebble(tmp_path / f"pebble-{OLDER_PEBBLE}", site.http_port, version=OLDER_PEBBLE,
                tls=site.pebble) as old:  # fmt: skip
        old.start()
        # An account and certificate of this CA's, beside the site's (its
        # challenges are answered the same way).
        elsewhere = "/tmp/acme-without-ari"
        apart = ["--env", f"ACME_DIRECTORY={old.directory}", "--env", f"ACME_DIR={elsewhere}",
                 "--env", f"NGINX_TLS_DIR={elsewhere}/live"]  # fmt: skip
        docker("exec", *apart, site.name, "acme-renew")
        docker("exec", *apart, site.name, "acme-renew")
        assert old.orders() == 1, "not due: 30 days or fewer are left of none"
        docker("exec", *apart, *due, site.name, "acme-renew")
        assert old.orders() == 2, "due: fewer than 100000 days left, and no ARI"


@pytest.mark.docker
def test_with_no_domain_and_a_certificate_given_no_acme_client_runs(single, tmp_path):
    """make dev's (and Kubernetes') settings: ACME_DOMAINS empty and a
    certificate in NGINX_TLS_DIR. nginx serves it; nothing asks a CA."""
    certificate = make_certificate(tmp_path / "certs", DOMAIN)
    name = f"{RUN_PREFIX}-acme-off"
    port = free_port()
    try:
        docker(
            "run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp",
            "--publish", f"{port}:{IMAGE['container_tls_port']}",
            "--env", f"NGINX_TLS_DIR={IMAGE['tls_dir']}", "--env", "SECRET_KEY=k",
            "--volume", f"{tmp_path / 'certs'}:{IMAGE['tls_dir']}:ro", single.name,
        )  # fmt: skip

        def served():
            try:
                return handshake(port, certificate)
            except OSError:
                return None

        wait_until(name, served, "the given certificate", 30)
        assert not [p for p in processes(name) if "acme-renew" in p[2] or "uacme" in p[2]]
        assert not [line for line in log_lines(name) if "acme-renew" in line]
    finally:
        docker("rm", "--force", name, check=False)


class TlsLoop(Loop):
    """traffic.Loop over HTTPS: a new TLS connection (and handshake) for each
    request, verified against the CA's root."""

    def __init__(self, port, cafile):
        super().__init__("127.0.0.1", port)
        self.context = client_context(cafile)
        self.context.set_alpn_protocols(["http/1.1"])

    def connection(self):
        return Connection(self.port, self.context, self.timeout)


@pytest.mark.docker
def test_b_a_forced_renewal_serves_a_new_certificate_without_a_failed_request(site):
    before = serial(handshake(site.https_port, site.root)[0])
    with TlsLoop(site.https_port, site.root) as loop:
        time.sleep(0.5)
        renewal = docker("exec", site.name, "acme-renew", "--force", check=False)
        assert renewal.returncode == 0, renewal.stdout + renewal.stderr
        deadline = time.monotonic() + 5
        while (now := serial(handshake(site.https_port, site.root)[0])) == before:
            assert time.monotonic() < deadline, "the renewed certificate is not served"
            time.sleep(0.1)
        time.sleep(0.5)
    assert now in site.pebble.issued()
    assert loop.failed == 0, loop
    assert len(loop.results) > 20, loop


@pytest.mark.docker
def test_c_install_again_orders_nothing_and_serves_the_same_certificate(single, site):
    served = serial(handshake(site.https_port, site.root)[0])
    orders = site.pebble.orders()
    result = run_install(
        single.project, "--name", site.name, "--image", single.name,
        "--port", site.http_port, "--https-port", site.https_port,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    wait_serving(site.name, site.http_port)
    wait_checked(site.name, site.pebble)
    assert site.pebble.orders() == orders
    assert serial(handshake(site.https_port, site.root)[0]) == served
    named = docker("ps", "--all", "--format", "{{.Names}}").stdout.split()
    assert [n for n in named if n.startswith(site.name)] == [site.name]


@pytest.mark.docker
def test_f_the_client_runs_as_the_images_user_and_writes_only_its_volume(site):
    [loop] = [p for p in processes(site.name) if "acme-renew --loop" in p[2]]
    status = docker("exec", site.name, "cat", f"/proc/{loop[0]}/status").stdout
    [uids] = [line.split()[1:] for line in status.splitlines() if line.startswith("Uid:")]
    assert set(uids) == {UID}
    others = docker("exec", site.name, "find", ACME_DIR, "!", "-uid", UID).stdout
    assert others == ""
    assert docker("exec", site.name, "test", "-s", f"{ACME_DIR}/live/tls.crt").returncode == 0
    # docker diff: the container's own layer. Docker makes the mount points of
    # what it mounts there (the CA bundle's); nothing else may be written.
    mounts = json.loads(docker("inspect", "--format", "{{json .Mounts}}", site.name).stdout)
    points = {m["Destination"] for m in mounts}
    points |= {str(parent) for point in points for parent in Path(point).parents}
    changed = [line.split(" ", 1) for line in docker("diff", site.name).stdout.splitlines()]
    assert [path for _, path in changed if path not in points] == [], changed
    assert {f"{ACME_DIR}/live/tls.crt", "/tmp"} & {path for _, path in changed} == set()


@pytest.mark.docker
def test_g_a_bad_domain_stops_install_with_one_line_and_no_container(single, site):
    name = f"{RUN_PREFIX}-acme-bad"
    try:
        result = run_install(
            single.project, "--name", name, "--image", single.name,
            "--port", free_port(), "--https-port", free_port(),
            env={"ACME_DOMAINS": "bad_domain!"},
        )  # fmt: skip
        assert result.returncode == 1, result.stdout + result.stderr
        named = [line for line in result.stderr.splitlines() if "ACME_DOMAINS" in line]
        assert len(named) == 1, result.stderr
        assert named[0].startswith("acme-renew: ACME_DOMAINS 'bad_domain!'"), named
        left = docker("ps", "--all", "--format", "{{.Names}}").stdout.split()
        assert not [n for n in left if n.startswith(name)]
        assert docker("volume", "inspect", f"{name}-data", check=False).returncode != 0
    finally:
        docker("rm", "--force", name, f"{name}-new", check=False)
        docker("volume", "rm", f"{name}-data", check=False)


# testssl.sh's findings for the protocols: nothing below TLS 1.2.
PROTOCOLS = {
    "SSLv2": "not offered",
    "SSLv3": "not offered",
    "TLS1": "not offered",
    "TLS1_1": "not offered",
    "TLS1_2": "offered",
    "TLS1_3": "offered with final",
}


@pytest.mark.docker
def test_h_testssl_finds_no_old_protocol_and_nothing_vulnerable(site, tmp_path):
    report = tmp_path / "testssl.json"
    run(
        tool("testssl"), "--quiet", "--color", "0", "--warnings", "off",
        "--protocols", "--vulnerable", "--jsonfile", report,
        f"127.0.0.1:{site.https_port}", check=False, timeout=300,
    )  # fmt: skip
    findings = json.loads(report.read_text())
    protocols = {f["id"]: f["finding"] for f in findings if f["id"] in PROTOCOLS}
    assert protocols == PROTOCOLS, protocols
    # engine_problem: this host's openssl has no GOST engine (about testssl.sh, not the site).
    flagged = [
        f for f in findings if f["severity"] not in ("OK", "INFO") and f["id"] != "engine_problem"
    ]
    assert flagged == [], flagged
    assert len(findings) > 20, findings  # the checks ran


@pytest.mark.docker
def test_e_with_the_ca_gone_a_renewal_fails_with_one_line_and_the_site_serves_on(site):
    """Pebble stopped (the site's last test: it needs Pebble no more):
    acme-renew --force fails with one line, and the certificate stays."""
    served = serial(handshake(site.https_port, site.root)[0])
    site.pebble.stop()
    renewal = docker("exec", site.name, "acme-renew", "--force", check=False)
    assert renewal.returncode != 0
    [line] = renewal.stderr.splitlines()
    assert line.startswith("acme-renew: ") and site.pebble.directory in line, line
    assert serial(handshake(site.https_port, site.root)[0]) == served


@pytest.mark.docker
def test_d_split_gets_a_certificate_and_keeps_it_across_down_and_up(split, pebble_ready, tmp_path):
    http_port, https_port = free_port(), free_port()
    pebble = Pebble(tmp_path / "pebble", http_port)
    # The CA and the check interval from the shell, the rest from .env;
    # ACME_RENEW_DAYS from neither, so acme-renew's default decides.
    shell = write_settings(
        split.project, pebble, shell=["ACME_DIRECTORY", "ACME_CHECK_INTERVAL"],
        HOST_PORT=http_port, HTTPS_PORT=https_port,
    )  # fmt: skip
    project = f"{RUN_PREFIX}-acme-split"
    try:
        pebble.start()
        root = tmp_path / "pebble-root.pem"
        root.write_text(pebble.root())

        def up():
            split.compose("up", "--detach", project=project, env=shell)
            proxy = split.compose("ps", "--quiet", "proxy", project=project).stdout.strip()
            return proxy, wait_for_certificate(proxy, https_port, root, pebble)

        proxy, first = up()
        assert serial(first) in pebble.issued()
        assert pebble.orders() == 1
        split.compose("down", project=project)  # the volumes are kept
        proxy, again = up()
        wait_checked(proxy, pebble)
        assert pebble.orders() == 1
        assert serial(again) == serial(first)
    finally:
        split.compose("down", "--volumes", "--remove-orphans", project=project, check=False)
        pebble.close()
        (split.project / ".env").unlink(missing_ok=True)
