"""The default project built for linux/arm64 and served, on this x86-64 host
under QEMU. The builder and assets stages run natively (uv puts pyuwsgi's
aarch64 wheel and the lock's others in the venv; nothing is compiled); only
the runtime stage runs emulated, its apt the most of the build's minutes
(not the 19 of uWSGI compiled by emulated gcc), so the whole suite runs it
(conftest.py runs it first, beside the other Docker tests under
pytest-xdist). `-m "not arm64"` leaves it out."""

import time

import pytest
from deployments import remove_images, secret_key_volume
from engine import INFRA, docker, free_port, http_get, wait_serving
from helpers import BUILDS, CONTEXT, IMAGE, RUN_PREFIX, bake, run, skip_or_fail

pytestmark = [pytest.mark.docker, pytest.mark.arm64]

PLATFORM = "linux/arm64"
# The arm64 image of the default base (tests/infra/make-debian-base-image.sh names
# it as Docker Hub names the official per-architecture repositories). The
# engine holds one platform's image under a name, so the stages that run on
# the build platform name this host's image of the same base.
BUILD_BASE = CONTEXT["base_image"][0]
BASE = f"arm64v8/{BUILD_BASE}"
SUITE = BUILD_BASE.removeprefix("debian:").removesuffix("-slim")


def test_the_default_project_serves_on_arm64(request, engine, cookies_session):
    results = request.config.stash[BUILDS]  # the run's summary counts this build
    label = f"{BASE}/single ({PLATFORM} under QEMU)"
    results[label] = "the build failed"
    # Both bases, this host's too: on a fresh machine the other Docker tests,
    # in another worker, may not have made it yet.
    for command in (["ensure-qemu.sh"], ["make-debian-base-image.sh", SUITE],
                    ["make-debian-base-image.sh", SUITE, "arm64"]):  # fmt: skip
        result = run(INFRA / command[0], *command[1:], check=False, timeout=1200)
        if result.returncode != 0:
            results[label] = f"{command[0]} failed"
            skip_or_fail(f"{' '.join(command)}: {result.stderr.strip()}")
    name = f"{RUN_PREFIX}-arm64"
    project = bake(cookies_session, project_name=name, ci="none")
    run("scripts/make-secrets.sh", cwd=project)
    try:
        start = time.monotonic()
        docker("buildx", "build", "--platform", PLATFORM, "--build-arg", f"BASE_IMAGE={BASE}",
               "--build-arg", f"BUILD_BASE_IMAGE={BUILD_BASE}",
               "--load", "--tag", name, project, timeout=1500)  # fmt: skip
        built = time.monotonic() - start
        assert docker("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}",
                      name).stdout.strip() == PLATFORM  # fmt: skip
        port = free_port()
        docker("run", "--detach", "--name", name, "--platform", PLATFORM, "--read-only",
               "--tmpfs", "/tmp", *secret_key_volume(project),
               "--publish", f"127.0.0.1:{port}:{IMAGE['container_port']}", name)  # fmt: skip
        # Not Docker's health status: its check, a Python start-up under
        # QEMU, can take over its 3 s timeout here (not on arm64 hardware).
        wait_serving(name, port, timeout=300)
        assert docker("exec", name, "uname", "-m").stdout.strip() == "aarch64"
        status, headers, body = http_get(f"http://127.0.0.1:{port}/")
        assert status == 200 and b"<html" in body.lower()
        assert headers["Server"] == "nginx"  # nginx answered, uWSGI rendered the page
        results[label] = None
        print(f"linux/arm64 under QEMU: built in {built:.0f} s, served 200 through nginx")
    finally:
        docker("rm", "--force", name, check=False)
        remove_images([name])
