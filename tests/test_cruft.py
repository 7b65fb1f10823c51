"""Baked projects stay updatable: cruft create/check/update, and cookiecutter --replay.

Everything runs on a git copy of this template in tmp_path (the working tree's
files, so uncommitted changes are tested too), with a private HOME and
cookiecutter config: the user's home and this repository are never touched.
"""

import ast
import json
import re
import shutil
import sys

import pytest
from deployments import run_install
from engine import docker, free_port, http_get
from helpers import REPO, RUN_PREFIX, run, tool

# What the hooks may import: nothing that reaches the network, runs git or
# anything else (subprocess), or brings randomness or the clock (random, uuid,
# time, datetime). cruft update renders the old and the new template again and
# applies the difference; a hook that varied would put noise into every update.
DETERMINISTIC_IMPORTS = {"json", "os", "pathlib", "re", "shutil", "stat", "sys"}
UPDATE_LINE = "Updated by the template for {{ cookiecutter.project_name }}."


@pytest.fixture
def isolated(tmp_path):
    """Environment with a private HOME, git identity and cookiecutter config."""
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "cookiecutter.yaml"
    config.write_text(
        f"cookiecutters_dir: {json.dumps(str(tmp_path / 'cookiecutters'))}\n"
        f"replay_dir: {json.dumps(str(tmp_path / 'replay'))}\n"
    )
    return {
        "HOME": str(home),
        "COOKIECUTTER_CONFIG": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_TERMINAL_PROMPT": "0",
    }


def git(*args, cwd, env):
    return run("git", *args, cwd=cwd, env=env).stdout.strip()


def commit_all(folder, message, env):
    git("add", "--all", cwd=folder, env=env)
    git("commit", "--quiet", "--message", message, cwd=folder, env=env)
    return git("rev-parse", "HEAD", cwd=folder, env=env)


@pytest.fixture
def template(tmp_path, isolated):
    """A git repository holding this template's files, as a user would clone it."""
    copy = tmp_path / "flask-docker"
    listed = run("git", "ls-files", "-z", "-co", "--exclude-standard", cwd=REPO).stdout
    # Tracked files deleted in the working tree are listed too: skip them.
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    git("init", "--quiet", "--initial-branch", "main", cwd=copy, env=isolated)
    commit_all(copy, "template", isolated)
    return copy


def only_child(folder):
    (child,) = folder.iterdir()
    return child


def test_cruft_update_applies_a_template_change(tmp_path, template, isolated):
    cruft = tool("cruft")
    out = tmp_path / "out"
    run(cruft, "create", "--no-input", "--output-dir", out, template, env=isolated)
    project = only_child(out)
    recorded = json.loads((project / ".cruft.json").read_text())
    assert recorded["template"] == str(template)
    assert recorded["commit"] == git("rev-parse", "HEAD", cwd=template, env=isolated)
    assert run(cruft, "check", cwd=project, env=isolated).returncode == 0
    # cruft update wants a git repository with nothing uncommitted.
    git("init", "--quiet", "--initial-branch", "main", cwd=project, env=isolated)
    commit_all(project, "baked", isolated)

    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(f"{readme.read_text()}\n{UPDATE_LINE}\n")
    new_commit = commit_all(template, "a template change", isolated)
    stale = run(cruft, "check", cwd=project, env=isolated, check=False)
    assert stale.returncode != 0 and "out of date" in stale.stdout + stale.stderr

    run(cruft, "update", "--skip-apply-ask", cwd=project, env=isolated)
    # Applied cleanly, and nothing but the change: the hooks are deterministic.
    changed = run("git", "status", "--porcelain", cwd=project, env=isolated).stdout.splitlines()
    assert sorted(line[3:] for line in changed) == [".cruft.json", "README.md"]
    assert not list(project.rglob("*.rej")) and not list(project.rglob("*.orig"))
    readme_text = (project / "README.md").read_text()
    assert readme_text.endswith("\nUpdated by the template for Flask App.\n")
    assert json.loads((project / ".cruft.json").read_text())["commit"] == new_commit
    assert run(cruft, "check", cwd=project, env=isolated).returncode == 0
    # The updated project's own tests pass.
    run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)


def tree(folder):
    """{relative path: (mode, bytes)} of every file under folder."""
    return {
        str(path.relative_to(folder)): (path.stat().st_mode, path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_cookiecutter_replay_bakes_the_same_project(tmp_path, template, isolated):
    cookiecutter = tool("cookiecutter")
    answers = {
        "project_name": "Replay Shop",
        "base_image": "ubuntu:24.04",
        "deployment": "split",
        "ci": "gitlab",
        "host_port": "8000",
    }
    first, second = tmp_path / "first", tmp_path / "second"
    extra = [f"{key}={value}" for key, value in answers.items()]
    run(cookiecutter, "--no-input", "--output-dir", first, template, *extra, env=isolated)
    (replay_file,) = (tmp_path / "replay").glob("*.json")
    replayed = json.loads(replay_file.read_text())["cookiecutter"]
    assert {key: replayed[key] for key in answers} == answers

    run(cookiecutter, "--replay", "--output-dir", second, template, env=isolated)
    baked, again = only_child(first), only_child(second)
    assert baked.name == again.name == "replay-shop"
    assert tree(baked) == tree(again)
    assert "compose.yaml" in tree(baked)


@pytest.mark.parametrize("hook", sorted(p.name for p in (REPO / "hooks").glob("*.py")))
def test_hooks_import_nothing_nondeterministic(hook):
    syntax = ast.parse((REPO / "hooks" / hook).read_text())
    imported = set()
    for node in ast.walk(syntax):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported and imported <= DETERMINISTIC_IMPORTS


def test_readme_shows_every_command_of_both_ways():
    readme = (REPO / "README.md").read_text()
    shown = [
        line.strip()
        for block in re.findall(r"^```sh\n(.*?)^```", readme, re.DOTALL | re.MULTILINE)
        for line in block.splitlines()
    ]
    for command in [
        r"cookiecutter gh:\S+",
        r"cookiecutter .*--replay( |$)",
        r"cruft create \S+",
        r"cruft check( |$)",
        r"cruft update( |$)",
    ]:
        assert any(re.match(command, line) for line in shown), command


# The last commit before the redesign of 1.0.0 moved the serving files into
# docker/ and the deployments into deploy/ (CHANGELOG.md).
BEFORE_REDESIGN = "0e035bb0aa7fcac8ffee909a317b8d9d46d66126"
# The commit of release 1.2.0 (CHANGELOG.md): 2.0.0 moves files again.
RELEASE_1_2_0 = "7d00b3a88180eb6b374e85ff9940693e525c23d5"


def updated_from(commit, tmp_path, template, isolated, answers=()):
    """A project baked by the template at `commit` (with `answers`), taken to
    this working tree's template with `cruft update`: it applies without a
    conflict and gives exactly what the new template bakes. Returns it."""
    cruft = tool("cruft")
    old = tmp_path / "old-template"
    old.mkdir()
    archive = run("git", "archive", commit, cwd=REPO, text=False).stdout
    run("tar", "-x", "-C", old, input=archive, text=False)
    git("init", "--quiet", "--initial-branch", "main", cwd=old, env=isolated)
    commit_all(old, "the old template", isolated)

    out, context = tmp_path / "out", tmp_path / "answers.json"
    context.write_text(json.dumps(dict(answers)))
    extra = ["--extra-context-file", context] if answers else []
    run(cruft, "create", "--no-input", *extra, "--output-dir", out, old, env=isolated)
    project = only_child(out)
    git("init", "--quiet", "--initial-branch", "main", cwd=project, env=isolated)
    commit_all(project, "baked", isolated)

    # The template's repository moves on: its next commit holds this one's files.
    for path in old.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copytree(template, old, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
    commit_all(old, "the new template", isolated)
    run(cruft, "update", "--skip-apply-ask", cwd=project, env=isolated)
    assert not list(project.rglob("*.rej")) and not list(project.rglob("*.orig"))

    fresh = tmp_path / "fresh"
    run(cruft, "create", "--no-input", *extra, "--output-dir", fresh, old, env=isolated)
    updated = {path: data for path, data in tree(project).items() if not path.startswith(".git/")}
    assert updated.keys() == tree(only_child(fresh)).keys()
    for path, (_, data) in tree(only_child(fresh)).items():
        if path != ".cruft.json":
            assert updated[path][1] == data, path
    return project


@pytest.mark.parametrize(
    "answers",
    [{}, {"deployment": "split", "https": "provided", "database": "postgres", "ci": "gitlab"}],
    ids=["default", "split-https-postgres-gitlab"],
)
def test_cruft_update_from_1_2_0(tmp_path, template, isolated, answers):
    """A project of release 1.2.0 takes this template's moves with `cruft update`,
    and its own tests pass."""
    project = updated_from(RELEASE_1_2_0, tmp_path, template, isolated, answers)
    run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)


@pytest.mark.parametrize(
    "answers",
    [{}, {"deployment": "split", "https": "provided", "database": "postgres", "ci": "gitlab"}],
    ids=["default", "split-https-postgres-gitlab"],
)
def test_each_file_2_0_0_removes_is_listed_as_moved(tmp_path, template, isolated, answers):
    """A file of a 1.2.0 bake that the update takes away is named in the Moved
    part of a CHANGELOG.md section newer than 1.2.0's."""
    project = updated_from(RELEASE_1_2_0, tmp_path, template, isolated, answers)
    before = git("ls-tree", "-r", "--name-only", "HEAD", cwd=project, env=isolated)
    removed = [path for path in before.split() if not (project / path).exists()]
    since = (REPO / "CHANGELOG.md").read_text().split("\n## 1.2.0 ")[0].split("\n## ")[1:]
    moved = "".join(section.partition("### Moved")[2].split("\n### ")[0] for section in since)
    assert moved, "no CHANGELOG.md section since 1.2.0 has a Moved part"
    assert [path for path in removed if f"`{path}`" not in moved] == []


@pytest.mark.docker
def test_cruft_update_across_the_redesign(tmp_path, template, isolated, engine):
    """A project baked before the redesign takes it with `cruft update`: the result
    is what the new template bakes, and it builds, passes its tests and serves."""
    project = updated_from(BEFORE_REDESIGN, tmp_path, template, isolated)
    run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    name, port = f"{RUN_PREFIX}-cruft-redesign", free_port()
    flags = ["--name", name, "--image", name]
    try:
        installed = run_install(project, *flags, "--port", str(port))
        assert installed.returncode == 0, installed.stdout + installed.stderr
        status, headers, _ = http_get(f"http://127.0.0.1:{port}/")
        assert (status, headers["Server"]) == (200, "nginx")
    finally:
        run_install(project, "--uninstall", *flags)
        docker("volume", "rm", f"{name}-data", check=False)
