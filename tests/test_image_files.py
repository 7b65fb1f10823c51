"""The image's own files are plain files in the template: its scripts,
uWSGI's ini and the healthchecks carry no Jinja, and the lints check them as
they stand, without baking (every bake is linted again by make check)."""

from helpers import REPO, load_hook, run, tool

UNRENDERED = load_hook("post_gen_project").UNRENDERED

DOCKER = REPO / "{{cookiecutter.project_slug}}" / "docker"
SCRIPTS = sorted(p for p in DOCKER.rglob("*") if p.suffix in (".sh", ".envsh"))
HEALTHCHECKS = sorted((REPO / "templates" / "healthcheck").glob("*.py"))
# Files of the image that choose by the answers: nginx's configuration (the
# split deployment's resolver and upstream, HTTPS's server lines) and the
# healthcheck, which includes the deployment's whole file.
CHOOSING = {"nginx/nginx.conf.template", "app/healthcheck.py"}


def test_image_files_are_plain():
    files = {p.relative_to(DOCKER).as_posix(): p for p in DOCKER.rglob("*") if p.is_file()}
    jinja = {name for name, path in files.items() if UNRENDERED.search(path.read_text())}
    assert jinja == CHOOSING
    assert len(files) - len(jinja) >= 8
    for path in HEALTHCHECKS:
        assert not UNRENDERED.search(path.read_text()), path


def test_scripts_pass_shellcheck_as_they_stand():
    assert len(SCRIPTS) >= 6
    run(tool("shellcheck"), *SCRIPTS)


def test_healthchecks_pass_ruff_as_they_stand():
    assert len(HEALTHCHECKS) == 2
    run(tool("ruff"), "check", "--no-cache", *HEALTHCHECKS)


def jinja_lines(folder):
    """The lines with Jinja of the files under folder (Flask's own templates,
    copied without rendering, left out)."""
    return sum(
        1
        for path in folder.rglob("*")
        if path.is_file() and "app/templates" not in path.as_posix()
        for line in path.read_text().splitlines()
        if UNRENDERED.search(line)
    )


def test_the_template_chooses_whole_files():
    """Jinja picks files and includes whole blocks, it does not weave lines:
    at most 250 lines with Jinja in the project (2.0.0's target; 778 in
    1.2.0's project), and at most 270 with its blocks (250 until the worker
    answer added its file choices, one line each, in 2.3.0; 260 until its
    beat Deployment for Kubernetes named the project in 5 more; 265 until
    backups chose their database's and deployment's blocks in 2.5.0)."""
    project = jinja_lines(REPO / "{{cookiecutter.project_slug}}")
    blocks = jinja_lines(REPO / "templates")
    assert project >= 40 and blocks >= 20  # both are counted
    assert project <= 250
    assert project + blocks <= 270
