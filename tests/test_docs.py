"""The docs: a short README a user rewrites, the reference in docs/, and every
link between them leading somewhere."""

import re

import pytest
from helpers import REPO, script_defaults

# The baked README is the user's to rewrite; the template's is a front page.
BAKED_README_LINES = 150
TEMPLATE_README_LINES = 200
# Each reference page stays short enough to read at once.
DOC_PAGE_LINES = 150
# [text](target): the target, without a title.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
TEMPLATE_DOCS = ["README.md", "CONTRIBUTING.md", "benchmarks/README.md"]


def anchor(heading):
    """GitHub's id of a heading: lowercase, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links(path, root):
    """Relative links of a markdown file whose file or heading does not exist."""
    broken = []
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, fragment = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists() or root.resolve() not in (linked, *linked.parents):
            broken.append(f"{path.relative_to(root)}: {target}")
        elif fragment and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.*)$", linked.read_text(), re.M)
            if fragment not in {anchor(heading) for heading in headings}:
                broken.append(f"{path.relative_to(root)}: {target}")
    return broken


def test_baked_docs_are_short(baked):
    project = baked.project
    assert len((project / "README.md").read_text().splitlines()) <= BAKED_README_LINES
    pages = sorted((project / "docs").glob("*.md"))
    assert pages
    long = [p.name for p in pages if len(p.read_text().splitlines()) > DOC_PAGE_LINES]
    assert long == []


def test_baked_links_lead_somewhere(baked):
    """Each relative link of the baked markdown: a file of this bake, and the
    heading it names; so the index lists exactly the pages the answers kept."""
    project = baked.project
    pages = sorted(project.rglob("*.md"))
    assert [] == [link for page in pages for link in broken_links(page, project)]
    index = (project / "docs" / "README.md").read_text()
    listed = set(re.findall(r"\]\(([\w-]+\.md)\)", index))
    assert listed == {p.name for p in (project / "docs").glob("*.md")} - {"README.md"}


def image_env(dockerfile):
    """{name: value} of every variable the Dockerfile's ENV instructions set,
    a build argument's default put in for its ${NAME}."""
    arguments = dict(re.findall(r"^ARG ([A-Z][A-Z0-9_]*)=(\S+)$", dockerfile, re.M))
    env = {}
    for block in re.findall(r"^ENV ((?:.*\\\n)*.*)$", dockerfile, re.M):
        for name, value in re.findall(r'\b([A-Z][A-Z0-9_]*)=("[^"]*"|\S+)', block):
            value = re.sub(r"\$\{(\w+)\}", lambda m: arguments.get(m[1], m[0]), value)
            env[name] = value.strip('"')
    return env


# ENV the image sets for itself, not settings.
NOT_SETTINGS = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "FLASK_APP"}


def test_settings_page_is_the_images_env(baked):
    """docs/settings.md lists each setting of the image with the image's default
    (`(empty: none)` for an empty one or one the image leaves unset)."""
    project = baked.project
    rows = re.findall(
        r"^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|",
        (project / "docs" / "settings.md").read_text(),
        re.M,
    )
    documented = {
        # A URL is written <url> (Markdown's autolink).
        name: "" if value.strip() == "(empty: none)" else value.strip().strip("<>")
        for name, value in rows
    }
    env = image_env((project / "Dockerfile").read_text())
    for given in script_defaults(project).values():
        env |= given
    settings = {name: value for name, value in env.items() if name not in NOT_SETTINGS}
    assert {"UWSGI_PROCESSES", "NGINX_MAX_BODY_SIZE", "SECRET_KEY_FILE"} <= set(settings)
    assert {name: documented.get(name) for name in settings} == settings
    unset = {name: value for name, value in documented.items() if name not in env}
    assert unset == dict.fromkeys(unset, "")


def test_template_readme_is_short():
    assert len((REPO / "README.md").read_text().splitlines()) <= TEMPLATE_README_LINES


@pytest.mark.parametrize("name", TEMPLATE_DOCS)
def test_template_links_lead_somewhere(name):
    assert broken_links(REPO / name, REPO) == []
