"""What a release carries: a version, a changelog that names what moved, and
rendered examples that are what the template bakes today."""

import importlib.util
import re

import pytest
from helpers import REPO, run

spec = importlib.util.spec_from_file_location("render", REPO / "scripts" / "render-examples.py")
render = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render)


def tree(folder):
    """{relative path: (executable, bytes)} of every file under folder."""
    return {
        str(path.relative_to(folder)): (bool(path.stat().st_mode & 0o100), path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.parametrize("name", render.EXAMPLES)
def test_example_matches_a_fresh_bake(name, tmp_path):
    committed = tree(REPO / "examples" / name)
    fresh = tree(render.bake(render.EXAMPLES[name], tmp_path))
    stale = sorted(
        path for path in committed.keys() | fresh.keys() if committed.get(path) != fresh.get(path)
    )
    assert stale == [], "examples are stale: run scripts/render-examples.py"


def test_every_example_folder_is_rendered():
    assert sorted(p.name for p in (REPO / "examples").iterdir()) == sorted(render.EXAMPLES)


def releases():
    """[(version, the section's text)] of the changelog, newest first; the
    Unreleased section (what main has that no release has yet) left out."""
    changelog = (REPO / "CHANGELOG.md").read_text()
    sections = re.split(r"^## ", changelog, flags=re.M)[1:]
    released = [section for section in sections if not section.startswith("Unreleased")]
    return [(section.split()[0], section) for section in released]


def test_version_is_the_changelogs_newest():
    version = (REPO / "VERSION").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert releases()[0][0] == version


def test_each_release_names_a_commit_of_its_version():
    """Users pin a release by its commit (`--checkout COMMIT`): every release
    but the newest names one (the newest may name it in a later commit), and
    the VERSION file of a named commit is that release's."""
    for index, (version, text) in enumerate(releases()):
        named = re.search(r"^Release commit: `([0-9a-f]{40})`", text, re.M)
        assert named or index == 0, f"{version} names no release commit"
        if named:
            at_commit = run("git", "show", f"{named[1]}:VERSION", cwd=REPO).stdout.strip()
            assert at_commit == version, f"{named[1]} is {at_commit}, not {version}"


def test_changelog_moves_match_the_examples():
    """Each moved file of the changelog's baked-project tables: gone from a
    bake, and where it says. (The template repository's tables follow "In the
    template's repository" and name files no bake has.)"""
    changelog = (REPO / "CHANGELOG.md").read_text()
    baked = re.sub(r"^In the template's repository.*?(?=^## )", "", changelog, flags=re.M | re.S)
    rows = re.findall(r"^\| `([^`]+)`[^|]* \| (.*) \|$", baked, re.M)
    assert len(rows) >= 8
    examples = [REPO / "examples" / name for name in render.EXAMPLES]
    for before, now in rows:
        assert not any((example / before).exists() for example in examples), before
        moved_to = re.match(r"`([^`]+)`", now)
        if moved_to:
            assert any((example / moved_to[1]).exists() for example in examples), now
