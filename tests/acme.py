"""Let's Encrypt's test CA, Pebble (Debian's package, in the image
tests/infra/make-pebble-image.sh makes), for the ACME tests.

Each Pebble runs in a container of its own on the host's network, on free
ports, with `app.test` resolving to 127.0.0.1 there: its HTTP-01 validation
connects to 127.0.0.1:<http_port>, the port the app under test publishes.
Containers on any bridge network reach its directory at the default bridge's
gateway, a host address, over HTTPS with a server certificate of a test CA
made here (ca_bundle: what ACME_CA_BUNDLE names). Pebble's own issuing root
comes from its management port (root()).
"""

import http.client
import ipaddress
import json
import os
import re
import shutil
import socket
import ssl
import time
import urllib.request
from pathlib import Path

from engine import INFRA, docker, free_port
from helpers import RUN_PREFIX, run, skip_or_fail, tool

# trixie's pebble (2.6.0, with ARI) unless TEST_PEBBLE_VERSION names bookworm's 2.4.0.
PEBBLE_VERSION = os.environ.get("TEST_PEBBLE_VERSION", "2.6.0")
DOMAIN = "app.test"
# Pebble's log line for each new order ("There are now N orders in the db").
ORDER_LINE = re.compile(r"Added order \S+ to the db")
ISSUED_LINE = re.compile(r"Issued certificate serial (\S+) for order")


def make_pebble(version):
    """The command that makes the Pebble image of version when it is missing."""
    return [INFRA / "make-pebble-image.sh", version]


def pebble_image(version=PEBBLE_VERSION):
    """Make the Pebble image when it is missing (seconds); fails or skips why not."""
    image = f"flask-docker-test/pebble:{version}"
    result = run(*make_pebble(version), check=False, timeout=900)
    if result.returncode != 0:
        skip_or_fail(f"could not make {image}: {result.stderr}")
    return image


def bridge_gateway():
    """The default bridge's gateway: the host, as every container network
    reaches it. Engines that do not record it (20.10) give the subnet's first
    address, which they take by default."""
    [config] = json.loads(
        docker("network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}").stdout
    )
    if config.get("Gateway"):
        return config["Gateway"]
    return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


def make_test_ca(folder, address):
    """A test CA (folder/ca.crt) and a server certificate it signed
    (folder/server.crt, .key) for localhost, 127.0.0.1 and address."""
    folder.mkdir(parents=True, exist_ok=True)
    openssl = tool("openssl")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(openssl, "req", "-x509", *ec, "-days", "2", "-subj", "/CN=flask-docker test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout", folder / "ca.key", "-out", folder / "ca.crt")  # fmt: skip
    run(openssl, "req", *ec, "-subj", "/CN=pebble",
        "-keyout", folder / "server.key", "-out", folder / "server.csr")  # fmt: skip
    (folder / "server.ext").write_text(
        f"subjectAltName=IP:{address},DNS:localhost,IP:127.0.0.1\n"
        "extendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n"
    )
    run(openssl, "x509", "-req", "-in", folder / "server.csr", "-days", "2",
        "-CA", folder / "ca.crt", "-CAkey", folder / "ca.key", "-CAcreateserial",
        "-extfile", folder / "server.ext", "-out", folder / "server.crt")  # fmt: skip
    for path in folder.iterdir():
        path.chmod(0o644)  # Pebble runs as nobody
    folder.chmod(0o755)
    return folder / "ca.crt"


class Pebble:
    """One Pebble of a test's own: made with its ports and configuration,
    started and stopped at will (a test may start the app first, the CA
    unreachable), removed by close()."""

    def __init__(self, folder: Path, http_port, name=None, version=PEBBLE_VERSION, tls=None):
        """tls: another Pebble whose test CA and server certificate to use
        (a client that trusts one trusts both)."""
        self.folder, self.http_port = folder, int(http_port)
        self.image = f"flask-docker-test/pebble:{version}"
        self.name = name or f"{RUN_PREFIX}-pebble-{free_port()}"
        self.port, self.management_port = free_port(), free_port()
        self.host = bridge_gateway()
        if tls:
            folder.mkdir(parents=True)
            for file in ("ca.crt", "server.crt", "server.key"):
                shutil.copy2(tls.folder / file, folder / file)
            folder.chmod(0o755)
            self.ca_bundle = folder / "ca.crt"
        else:
            self.ca_bundle = make_test_ca(folder, self.host)
        config = {
            "pebble": {
                "listenAddress": f"0.0.0.0:{self.port}",
                "managementListenAddress": f"0.0.0.0:{self.management_port}",
                "certificate": "/etc/pebble/server.crt",
                "privateKey": "/etc/pebble/server.key",
                "httpPort": self.http_port,
                "tlsPort": 5001,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
            }
        }
        (folder / "config.json").write_text(json.dumps(config, indent=2))
        (folder / "config.json").chmod(0o644)
        self.context = ssl.create_default_context(cafile=str(self.ca_bundle))

    @property
    def directory(self):
        """The directory's URL as a container reaches it."""
        return f"https://{self.host}:{self.port}/dir"

    def start(self, timeout=30):
        docker("rm", "--force", self.name, check=False)
        docker(
            "run", "--detach", "--name", self.name, "--network", "host",
            "--add-host", f"{DOMAIN}:127.0.0.1",
            "--env", "PEBBLE_WFE_NONCEREJECT=0", "--env", "PEBBLE_VA_NOSLEEP=1",
            "--volume", f"{self.folder}:/etc/pebble:ro",
            self.image, "-config", "/etc/pebble/config.json",
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.get(f"https://127.0.0.1:{self.port}/dir")
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"Pebble did not answer:\n{self.logs()}") from None
                time.sleep(0.2)

    def stop(self):
        docker("rm", "--force", self.name, check=False)

    close = stop

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def get(self, url):
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self.context)
        )
        with opener.open(url, timeout=5) as response:
            return response.read().decode()

    def root(self):
        """Pebble's issuing root (PEM), from its management port."""
        return self.get(f"https://127.0.0.1:{self.management_port}/roots/0")

    def intermediate(self):
        return self.get(f"https://127.0.0.1:{self.management_port}/intermediates/0")

    def logs(self):
        result = docker("logs", self.name, check=False)
        return result.stdout + result.stderr

    def directory_fetches(self):
        """How many times a client fetched the directory: uacme does at each run."""
        return self.logs().count("GET /dir ->")

    def orders(self):
        """How many orders Pebble took so far."""
        return len(ORDER_LINE.findall(self.logs()))

    def issued(self):
        """The serials of the certificates Pebble issued so far."""
        return [int(serial, 16) for serial in ISSUED_LINE.findall(self.logs())]


class Connection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1:port as to https://app.test:port: SNI, Host and the
    name checked are the domain's (the host cannot resolve it)."""

    def __init__(self, port, context, timeout=5):
        super().__init__(DOMAIN, port, context=context, timeout=timeout)

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=DOMAIN)


def client_context(cafile=None):
    """A client's TLS context trusting cafile only; without one, trusting anything."""
    if cafile is None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=str(cafile))
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


def handshake(port, cafile=None):
    """A TLS handshake as a browser of app.test makes it (offering h2):
    (the server's certificate as PEM, the protocol ALPN chose). With cafile,
    the chain the server sends must lead to it, or ssl.SSLError."""
    context = client_context(cafile)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
        context.wrap_socket(sock, server_hostname=DOMAIN) as tls,
    ):
        return ssl.DER_cert_to_PEM_cert(
            tls.getpeercert(binary_form=True)
        ), tls.selected_alpn_protocol()


def certificate_field(pem, field):
    """One of openssl x509's print options (serial, issuer, subject) of a PEM certificate."""
    out = run(tool("openssl"), "x509", "-noout", "-nameopt", "RFC2253", f"-{field}", input=pem)
    out = out.stdout.strip()
    return out.partition("=")[2]


def serial(pem):
    return int(certificate_field(pem, "serial"), 16)
