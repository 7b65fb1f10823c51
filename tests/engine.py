"""The Docker engine the tests build and run in, and the base images they need.

Uses the engine that answers. When none does, or the client lacks BuildKit
(buildx) or Compose v2, and we are root on Debian (CI), scripts/ensure-docker.sh
installs what is missing and starts dockerd. Debian bases that are missing
are made locally by tests/infra/make-debian-base-image.sh (debootstrap); other
bases are only used when the engine already has them or can pull them.
"""

import http.client
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from helpers import run

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
# The stand-ins for base images that no registry answers for here.
INFRA = Path(__file__).resolve().parent / "infra"


def docker(*args, client="docker", timeout=900, **kwargs):
    return run(client, *args, timeout=timeout, **kwargs)


def engine_problem():
    """None when an engine answers and the client builds with BuildKit and has
    Compose v2 (setting them up if we may), else why not."""
    ready = shutil.which("docker") and all(
        docker(*command, check=False).returncode == 0
        for command in (["info"], ["buildx", "version"], ["compose", "version"])
    )
    if ready:
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "no Docker engine with buildx and compose answers, and this is not root on Debian"
    result = run(SCRIPTS / "ensure-docker.sh", check=False)
    if result.returncode != 0:
        return f"could not start a Docker engine: {result.stderr.strip()}"
    return None


def stand_in(image):
    """The script (and its argument) that makes `image` here when no registry
    answers, or None: tests/infra/make-*-image.sh."""
    repository, _, tag = image.partition(":")
    if repository in ("debian", "python") and tag.endswith("-slim"):
        script = "make-debian-base-image.sh" if repository == "debian" else "make-python-image.sh"
        return [INFRA / script, tag.removesuffix("-slim")]
    if repository in ("postgres", "redis"):
        return [INFRA / f"make-{repository}-image.sh", tag]
    return None


def make_meanwhile(commands):
    """Start running these make-*-image.sh commands in the background, one
    after another, and return the process. On a fresh machine each image takes
    minutes (a python stand-in compiles CPython) while the tests before the one
    that needs it mostly wait on containers; that test's own call then waits
    for this maker (the scripts take a lock per image) or finds the image made.
    A failure here is left for that call to report."""
    script = "; ".join(f"{shlex.join(map(str, command))} >/dev/null 2>&1" for command in commands)
    return subprocess.Popen(["bash", "-c", script], start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip


def base_image_problem(image):
    """None when the engine has `image` (making a stand-in locally where we
    can), else why not."""
    command = stand_in(image)
    if command:
        # The script keeps an image that is there, but a stand-in of an older
        # version of itself; a python stand-in compiles CPython: minutes.
        result = run(*command, check=False, timeout=1800)
        return None if result.returncode == 0 else f"could not make {image}: {result.stderr}"
    if docker("image", "inspect", image, check=False).returncode == 0:
        return None
    if docker("pull", "-q", image, check=False, timeout=120).returncode == 0:
        return None
    return "not in the engine, and no registry answers to pull it"


ISSUED_PORTS = set()


def free_port():
    """A port free now, never handed out before by this process."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in ISSUED_PORTS:
            ISSUED_PORTS.add(port)
            return port


def http_get(url, timeout=60, headers=None, method="GET"):
    """GET (or another method, with an empty body) url, retrying until it
    answers (a container needs a moment to start).

    Returns (status, headers, body). Any HTTP status counts as an answer.
    """
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    body = None if method == "GET" else b""
    while True:
        try:
            request = urllib.request.Request(url, body, headers or {}, method=method)
            with opener.open(request, timeout=5) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def get_once(connection, path, headers=None):
    """One GET on a new connection, redirects not followed, the body as sent
    (not decompressed). Returns (status, headers, body, TLS version or None).
    """
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        secure = isinstance(connection, http.client.HTTPSConnection)
        version = connection.sock.version() if secure else None
        return response.status, response.headers, body, version
    finally:
        connection.close()


def http_get_once(port, path="/", headers=None, timeout=10):
    """GET http://127.0.0.1:port: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    return get_once(connection, path, headers)[:3]


def https_get(port, cafile, path="/", version=None, headers=None):
    """GET https://127.0.0.1:port, verifying the certificate against cafile.

    Returns (status, headers, body, TLS version). version: the only one offered.
    """
    context = ssl.create_default_context(cafile=str(cafile))
    if version:
        # Let this client offer versions its OpenSSL disables by default.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = context.maximum_version = version
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    return get_once(connection, path, headers)


def wait_until(container, ready, what, timeout=60, pause=0.2):
    """Call ready() until it is true; fail with the container's logs once the
    container has stopped or `timeout` seconds have passed. `what` is what we
    waited for, named in the failure."""
    deadline = time.monotonic() + timeout
    while not ready():
        state = json.loads(docker("inspect", "--format", "{{json .State}}", container).stdout)
        if not state["Running"] or time.monotonic() > deadline:
            logs = docker("logs", container, check=False)
            raise AssertionError(
                f"{container} ({state['Status']}): no {what}\n{logs.stdout}\n{logs.stderr}"
            )
        time.sleep(pause)


def image_id(reference):
    """The full id of the image a name:tag points to, or ""."""
    return docker("images", "--quiet", "--no-trunc", reference).stdout.strip()


def anonymous_volumes(container):
    """The anonymous volumes a container mounts (an image's VOLUME that
    nothing was mounted at): each new container leaves one behind."""
    mounts = json.loads(docker("inspect", "--format", "{{json .Mounts}}", container).stdout)
    return [
        m["Name"]
        for m in mounts
        if m["Type"] == "volume" and re.fullmatch("[0-9a-f]{64}", m["Name"])
    ]


def wait_serving(container, port, timeout=60):
    """Until nginx answers /health with 200 on 127.0.0.1:port, uWSGI behind
    it: what a first request needs. Docker's own health status comes later:
    its first check runs HEALTHCHECK's --interval (5 s) after the start."""

    def serving():
        try:
            return http_get_once(port, "/health", timeout=5)[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    wait_until(container, serving, f"200 from /health on port {port}", timeout)


def wait_checks_pass(container, timeout=60):
    """Until the image's own health check passes when run now in the container:
    Docker's verdict without waiting for its first check (see wait_serving)."""
    test = json.loads(docker("inspect", "--format", "{{json .Config.Healthcheck.Test}}",
                             container).stdout)  # fmt: skip
    assert test[0] == "CMD", test  # the exec form, as the Dockerfile writes it

    def passes():
        return docker("exec", container, *test[1:], check=False).returncode == 0

    wait_until(container, passes, "passing health check", timeout)


def wait_healthy(container, timeout=60):
    def healthy():
        state = json.loads(docker("inspect", "--format", "{{json .State}}", container).stdout)
        return state.get("Health", {}).get("Status") == "healthy"

    wait_until(container, healthy, "healthy status", timeout, pause=0.5)


# Lists a container's processes as "pid ppid command line" with nothing but sh
# and coreutils: the images have no ps.
PS = r"""for d in /proc/[0-9]*; do
    read -r _ _ _ ppid _ < "$d/stat" &&
    printf '%s %s %s\n' "${d#/proc/}" "$ppid" "$(tr '\0' ' ' < "$d/cmdline")"
done 2>/dev/null"""


def is_uwsgi(command):
    """Whether a command line is uWSGI's: pyuwsgi's console script, run by the
    venv's Python (`/opt/venv/bin/python /opt/venv/bin/uwsgi --ini ...`), or
    a uwsgi binary."""
    return any(os.path.basename(word) == "uwsgi" for word in command.split()[:2])


def processes(container):
    listing = docker("exec", container, "sh", "-c", PS).stdout
    # The listing shell's own command line spans lines: keep only whole rows.
    rows = re.findall(r"^(\d+) (\d+) (.*)$", listing, re.MULTILINE)
    return [(int(pid), int(ppid), cmd.strip()) for pid, ppid, cmd in rows]


def signal_uwsgi(container, signal):
    """Send every uWSGI process of the container a signal (STOP freezes them, CONT thaws)."""
    pids = [str(pid) for pid, _, command in processes(container) if is_uwsgi(command)]
    assert pids, processes(container)
    docker("exec", container, "sh", "-c", f"kill -{signal} {' '.join(pids)}")
