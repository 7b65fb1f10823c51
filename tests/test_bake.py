"""Bake every combination of choices; lint and test each with the real tools."""

import re
import string
import sys

import pytest
from conftest import CONTEXT, run, tool

# Jinja left in a file; GitHub's ${{ }} expressions are meant to stay.
UNRENDERED = re.compile(r"(?<!\$)\{\{|\{%|\{#")


def test_bakes_the_chosen_layout(baked):
    answers, project = baked
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    assert {"Dockerfile", "nginx.conf.template", "uwsgi.ini", "app/__init__.py", "wsgi.py"} <= files
    assert ("install.sh" in files) == (answers["deployment"] == "single")
    assert ("docker-compose.yml" in files) == (answers["deployment"] == "split")
    assert (".env" in files) == (answers["deployment"] == "split")
    assert ("docker-stack.yml" in files) == (answers["deployment"] == "split")
    assert ("scripts/self-signed-cert.sh" in files) == (answers["https"] != "none")
    assert ("k8s/kustomization.yaml" in files) == (answers["deployment"] == "split")
    assert (".github/workflows/ci.yml" in files) == (answers["ci"] == "github")
    assert (".gitlab-ci.yml" in files) == (answers["ci"] == "gitlab")


def test_no_unrendered_jinja(baked):
    _, project = baked
    leftovers = [
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and UNRENDERED.search(path.read_text())
    ]
    assert leftovers == []


def test_dockerfile_uses_the_chosen_base(baked):
    answers, project = baked
    dockerfile = (project / "Dockerfile").read_text()
    assert f"ARG BASE_IMAGE={answers['base_image']}\n" in dockerfile
    froms = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert froms and set(froms) == {"${BASE_IMAGE}"}


def test_scripts_are_executable(baked):
    _, project = baked
    for script in [*project.glob("*.sh"), *project.glob("scripts/*.sh")]:
        assert script.stat().st_mode & 0o111, script


def test_baked_tests_pass(baked):
    _, project = baked
    run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)


def test_ruff_clean(baked):
    _, project = baked
    ruff = tool("ruff")
    run(ruff, "check", "--no-cache", ".", cwd=project)
    run(ruff, "format", "--no-cache", "--check", ".", cwd=project)


def test_hadolint_clean(baked):
    _, project = baked
    # The baked .hadolint.yaml sets the failure threshold to warning.
    run(tool("hadolint"), "Dockerfile", cwd=project)


def test_shellcheck_clean(baked):
    _, project = baked
    scripts = [str(p) for p in [*project.glob("*.sh"), *project.glob("scripts/*.sh")]]
    assert scripts
    run(tool("shellcheck"), *scripts)


def test_nginx_config_is_valid(baked, tmp_path, certificate):
    answers, project = baked
    # docker-entrypoint.sh fills the template's ${NGINX_*} from the environment,
    # whose defaults the Dockerfile sets: exactly the settings the template uses.
    template = (project / "nginx.conf.template").read_text()
    dockerfile = (project / "Dockerfile").read_text()
    defaults = {
        name: value.strip('"')
        for name, value in re.findall(r'\b(NGINX_\w+)=("[^"]*"|\S+)', dockerfile)
    }
    used = set(re.findall(r"\$\{(NGINX_\w+)\}", template))
    assert used == set(defaults)
    config = tmp_path / "nginx.conf"
    text = string.Template(template).safe_substitute(defaults)
    # Where the container mounts the certificate, a test certificate here.
    text = text.replace(f"{CONTEXT['_tls_dir']}/", f"{certificate.parent}/")
    assert ("ssl_certificate " in text) == (answers["https"] != "none")
    config.write_text(text)
    # -t parses the whole file, includes and all, and opens what it would use.
    run(tool("nginx"), "-t", "-q", "-e", "stderr", "-c", config)


def test_compose_file_matches_the_schema(baked):
    answers, project = baked
    if answers["deployment"] != "split":
        assert not (project / "docker-compose.yml").exists()
        return
    run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.compose-spec",
        str(project / "docker-compose.yml"),
    )


SCHEMAS = {
    "github": ("vendor.github-workflows", ".github/workflows/ci.yml"),
    "gitlab": ("vendor.gitlab-ci", ".gitlab-ci.yml"),
}


@pytest.mark.parametrize("platform", SCHEMAS)
def test_ci_file_matches_the_schema(baked, platform):
    answers, project = baked
    schema, path = SCHEMAS[platform]
    if answers["ci"] != platform:
        assert not (project / path).exists()
        return
    run(tool("check-jsonschema"), "--builtin-schema", schema, str(project / path))
