"""Fixtures and pytest hooks: one bake per combination, the run's summary."""

import fcntl
import json
from pathlib import Path

import pytest
from cookiecutter import environment
from helpers import (
    BAKED,
    BUILDS,
    REPO,
    Bake,
    combination_id,
    combinations,
    make_certificate,
    summary_lines,
)
from pytest_cookies.plugin import Cookies

# The Docker fixtures (engine, variant, served, fresh); the baked CI files'.
pytest_plugins = ["deployments", "baked_ci"]

COMBINATIONS = combinations()


# What Jinja's compiled code depends on, besides the source: the lexer's and
# the code generator's settings, and the extensions (which bring the filters).
COMPILE_SETTINGS = [
    *["block_start_string", "block_end_string", "variable_start_string"],
    *["variable_end_string", "comment_start_string", "comment_end_string"],
    *["line_statement_prefix", "line_comment_prefix", "trim_blocks", "lstrip_blocks"],
    *["newline_sequence", "keep_trailing_newline", "optimized", "autoescape", "finalize"],
    "is_async",
]
COMPILED = {}


def _compile_once(self, source, name=None, filename=None, raw=False, defer_init=False):
    """Each template's Python code compiled once per run instead of once per
    bake: cookiecutter makes a new Jinja environment for each bake, which
    compiles every file (and file name) anew, about half a bake's time
    (measured). A code object is kept per source, name and the environment's
    settings it depends on; what a bake writes is the same byte for byte."""
    if raw or not isinstance(source, str):
        return _compile(self, source, name, filename, raw, defer_init)
    settings = (*(repr(getattr(self, key)) for key in COMPILE_SETTINGS), *sorted(self.extensions))
    key = (settings, source, name, filename, defer_init)
    if key not in COMPILED:
        COMPILED[key] = _compile(self, source, name, filename, raw, defer_init)
    return COMPILED[key]


_compile = environment.StrictEnvironment.compile
environment.StrictEnvironment.compile = _compile_once


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"))


def pytest_configure(config):
    config.option.template = str(REPO)
    config.stash[BAKED] = set()
    config.stash[BUILDS] = {}


class BakeStore:
    """Each combination baked once per run, whichever process needs it first:
    pytest-xdist's workers share the folder (their base folders' parent), a
    lock per combination, and a note of where it was baked or why it failed."""

    def __init__(self, root, config, config_file):
        self.root, self.config, self.config_file = root, config, config_file
        self.root.mkdir(parents=True, exist_ok=True)
        self.known = {}

    def get(self, index, wait=True):
        """The bake of COMBINATIONS[index]; None when another process holds
        its lock and wait is false."""
        if index in self.known:
            return self.known[index]
        answers = COMBINATIONS[index]
        note = self.root / f"{index:03d}.json"
        with (self.root / f"{index:03d}.lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                return None
            if not note.exists():
                folder = self.root / f"{index:03d}"
                cookies = Cookies(str(REPO), lambda _: folder, self.config_file)
                folder.mkdir()
                result = cookies.bake(extra_context=answers)
                if result.exit_code == 0:
                    self.config.stash[BAKED].add(combination_id(answers))
                    text = {"project": str(result.project_path)}
                else:
                    text = {"error": f"{combination_id(answers)}: {result.exception!r}"}
                note.write_text(json.dumps(text))
            text = json.loads(note.read_text())
        assert "error" not in text, text["error"]
        self.known[index] = Bake(answers, Path(text["project"]))
        return self.known[index]

    def all(self):
        """Every combination's bake; those another process bakes now are
        taken last, so that two processes bake different ones."""
        for index in range(len(COMBINATIONS)):
            self.get(index, wait=False)
        return [self.get(index) for index in range(len(COMBINATIONS))]


@pytest.fixture(scope="session")
def bake_store(request, tmp_path_factory, _cookiecutter_config_file):
    root = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):  # a pytest-xdist worker
        root = root.parent
    return BakeStore(root / "bakes", request.config, _cookiecutter_config_file)


@pytest.fixture(scope="session", params=COMBINATIONS, ids=combination_id)
def baked(request, bake_store):
    """One bake per combination, shared by every test of that combination."""
    return bake_store.get(request.param_index)


@pytest.fixture(scope="session")
def bakes(bake_store):
    """The bakes of every combination, for the checks run once per distinct file."""
    return bake_store.all()


@pytest.hookimpl(trylast=True)  # after pytest's own grouping by fixture
def pytest_collection_modifyitems(config, items):
    """The swarm tests last: after `docker swarm leave` (measured on engine
    20.10), containers started before it resolve no names on their networks
    any more: a split deployment of an earlier fixture would answer 502.
    The arm64 test first, in a pytest-xdist group of its own: its emulated
    build, minutes of CPU, then runs on one worker beside the other Docker
    tests on another, not alone after them. It touches only what it names
    (its container and image carry this process's prefix, on the default
    network), so it is safe beside them. Then the checks over every bake:
    the longest (pymarkdown on each README), they keep one worker busy while
    the others bake."""
    items.sort(
        key=lambda item: (
            "swarm" in getattr(item, "fixturenames", ()),
            item.get_closest_marker("arm64") is None,
            "bakes" not in getattr(item, "fixturenames", ()),
        )
    )
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        if item.get_closest_marker("arm64"):
            in_group(item, "arm64")
        elif item.get_closest_marker("docker"):
            in_group(item, "docker")


def in_group(item, group):
    """The Docker tests share one engine: under pytest-xdist (--dist loadgroup)
    they all run in one worker, in the order above (the arm64 test in a group
    of its own). pytest-xdist 3.8 puts a test in a group by adding @group to
    its id, as Node._nodeid, which pytest 9.2 no longer reads (it keeps
    Node._id): done here, and checked."""
    from _pytest.nodeid import NodeId

    if not item.nodeid.endswith(f"@{group}"):
        item._id = NodeId.parse(f"{item.nodeid}@{group}")
    assert item.nodeid.endswith(f"@{group}"), f"the xdist group {group} did not take"


def pytest_sessionfinish(session):
    """A pytest-xdist worker hands what it baked and built, and how many Docker
    runs it left out, to the controller (which collects nothing)."""
    from deployments import NARROWED  # the plugin, once pytest_plugins loaded it

    config = session.config
    if hasattr(config, "workeroutput"):
        config.workeroutput["baked"] = sorted(config.stash[BAKED])
        config.workeroutput["builds"] = config.stash[BUILDS]
        config.workeroutput["narrowed"] = config.stash.get(NARROWED, 0)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's controller
def pytest_testnodedown(node, error):
    from deployments import NARROWED

    output = getattr(node, "workeroutput", {})
    node.config.stash[BAKED].update(output.get("baked", ()))
    node.config.stash[BUILDS].update(output.get("builds", {}))
    # Every worker collects the same tests, so leaves out the same runs.
    node.config.stash[NARROWED] = output.get("narrowed", 0)


def pytest_terminal_summary(terminalreporter, config):
    for line in summary_lines(config.stash[BAKED], config.stash[BUILDS]):
        terminalreporter.write_line(line)
