"""Fixtures and pytest hooks: one bake per combination, the run's summary."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import (
    BAKED,
    BUILDS,
    REPO,
    combination_id,
    combinations,
    make_certificate,
    summary_lines,
)

# The Docker fixtures (engine, variant, served, fresh).
pytest_plugins = ["deployments"]


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"))


def pytest_configure(config):
    config.option.template = str(REPO)
    config.stash[BAKED] = set()
    config.stash[BUILDS] = {}


@dataclass(frozen=True)
class Bake:
    answers: dict
    project: Path


@pytest.fixture(scope="session", params=combinations(), ids=combination_id)
def baked(request, cookies_session):
    """One bake per combination, shared by every test of that combination."""
    result = cookies_session.bake(extra_context=request.param)
    assert result.exit_code == 0, result.exception
    request.config.stash[BAKED].add(combination_id(request.param))
    return Bake(request.param, result.project_path)


# Measured on 2 cores: about 19 min, most of it uWSGI compiled under QEMU.
ARM64_SKIP = (
    "the linux/arm64 build runs emulated, about 19 min here: "
    "run it with scripts/test.sh -m arm64 (CONTRIBUTING.md, Tests)"
)


@pytest.hookimpl(trylast=True)  # after pytest's own grouping by fixture
def pytest_collection_modifyitems(config, items):
    """The swarm tests last: after `docker swarm leave` (measured on engine
    20.10), containers started before it resolve no names on their networks
    any more: a split deployment of an earlier fixture would answer 502.
    The arm64 test only when `-m` asks for it."""
    items.sort(key=lambda item: "swarm" in getattr(item, "fixturenames", ()))
    wanted = config.option.markexpr or ""
    if "arm64" not in wanted or "not arm64" in wanted:
        for item in items:
            if item.get_closest_marker("arm64"):
                item.add_marker(pytest.mark.skip(reason=ARM64_SKIP))


def pytest_terminal_summary(terminalreporter, config):
    for line in summary_lines(config.stash[BAKED], config.stash[BUILDS]):
        terminalreporter.write_line(line)
