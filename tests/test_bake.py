"""Bake every combination of choices; lint and test each with the real tools."""

import re
import string
import sys

import pytest
from helpers import CONTEXT, load_hook, run, tool

post = load_hook("post_gen_project")


def top_paths(project):
    """Each baked file as the hooks' table names it: a file, or its optional folder."""
    optional_folders = {path for files in post.OPTIONAL.values() for path in files}
    paths = set()
    for file in project.rglob("*"):
        if file.is_file():
            path = str(file.relative_to(project))
            folder = next((f for f in optional_folders if path.startswith(f + "/")), None)
            paths.add(folder or path)
    return paths


def test_bakes_the_chosen_layout(baked):
    """Exactly the files the post-gen hook's table lists for these answers."""
    answers, project = baked.answers, baked.project
    assert top_paths(project) == set(post.expected(answers))


def test_no_unrendered_jinja(baked):
    project = baked.project
    leftovers = [
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and post.UNRENDERED.search(path.read_text())
    ]
    assert leftovers == []


def test_dockerfile_uses_the_chosen_base(baked):
    answers, project = baked.answers, baked.project
    dockerfile = (project / "Dockerfile").read_text()
    assert f"ARG BASE_IMAGE={answers['base_image']}\n" in dockerfile
    froms = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert froms and set(froms) == {"${BASE_IMAGE}"}


def test_scripts_are_executable(baked):
    project = baked.project
    scripts = list(project.rglob("*.sh"))
    assert scripts
    for script in scripts:
        assert script.stat().st_mode & 0o111, script


def test_baked_tests_pass(baked):
    project = baked.project
    run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)


def test_ruff_clean(baked):
    project = baked.project
    ruff = tool("ruff")
    run(ruff, "check", "--no-cache", ".", cwd=project)
    run(ruff, "format", "--no-cache", "--check", ".", cwd=project)


def test_hadolint_clean(baked):
    project = baked.project
    # The baked .hadolint.yaml sets the failure threshold to warning.
    run(tool("hadolint"), "Dockerfile", cwd=project)


def test_shellcheck_clean(baked):
    project = baked.project
    scripts = list(project.rglob("*.sh"))
    assert scripts
    run(tool("shellcheck"), *scripts)


def test_nginx_config_is_valid(baked, tmp_path, certificate):
    answers, project = baked.answers, baked.project
    # The entrypoint fills the template's ${NGINX_*} from the environment,
    # whose defaults the Dockerfile sets: exactly the settings the template uses.
    template = (project / "docker" / "nginx" / "nginx.conf.template").read_text()
    defaults = {
        name: value for name, value in image_defaults(project).items() if name.startswith("NGINX_")
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
    answers, project = baked.answers, baked.project
    if answers["deployment"] != "split":
        assert not (project / "compose.yaml").exists()
        return
    run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.compose-spec",
        str(project / "compose.yaml"),
    )


SCHEMAS = {
    "github": ("vendor.github-workflows", ".github/workflows/ci.yml"),
    "gitlab": ("vendor.gitlab-ci", ".gitlab-ci.yml"),
}


@pytest.mark.parametrize("platform", SCHEMAS)
def test_ci_file_matches_the_schema(baked, platform):
    answers, project = baked.answers, baked.project
    schema, path = SCHEMAS[platform]
    if answers["ci"] != platform:
        assert not (project / path).exists()
        return
    run(tool("check-jsonschema"), "--builtin-schema", schema, str(project / path))


def image_defaults(project):
    """{setting: default} of the nginx and uWSGI settings in the Dockerfile's ENV."""
    dockerfile = (project / "Dockerfile").read_text()
    return {
        name: value.strip('"')
        for name, value in re.findall(r'\b((?:NGINX|UWSGI)_\w+)=("[^"]*"|\S+)', dockerfile)
    }


# Where a setting's default may be written: the image and the settings table.
DEFAULTS_LIVE_IN = {"Dockerfile", "README.md"}


def test_each_default_is_stated_once(baked):
    """A default is written in the Dockerfile and README.md only: elsewhere a
    setting is passed on by name, so the image's default applies."""
    project = baked.project
    defaults = image_defaults(project)
    assert {"UWSGI_PROCESSES", "NGINX_MAX_BODY_SIZE"} <= set(defaults)
    found = []
    for path in sorted(project.rglob("*")):
        relative = str(path.relative_to(project))
        if not path.is_file() or relative in DEFAULTS_LIVE_IN or relative == "LICENSE":
            continue
        # Kubernetes' env items: "- name: X" and "value: Y" on one line.
        text = re.sub(r"name: (\w+)\n\s+value: ", r"name: \1 value: ", path.read_text())
        for number, line in enumerate(text.splitlines(), 1):
            for name, value in defaults.items():
                # On the setting's own line, or a value too particular to be chance.
                particular = not value.isdigit() and len(value) > 3
                alone = rf"(?<![\w.-]){re.escape(value)}(?![\w.-])"
                if re.search(alone, line.replace(name, "")) and (name in line or particular):
                    found.append(f"{relative}:{number}: {name}={value}: {line.strip()}")
    assert found == []


def test_markdown_is_clean(baked):
    """Every baked Markdown file passes pymarkdown (line length aside: names vary)."""
    project = baked.project
    documents = list(project.rglob("*.md"))
    assert documents
    run(tool("pymarkdown"), "--disable-rules", "md013", "scan", *documents)


def test_license_is_the_chosen_one(baked):
    answers, project = baked.answers, baked.project
    text = (project / "LICENSE").read_text()
    first_line = {
        "MIT": "MIT License",
        "BSD-3-Clause": "BSD 3-Clause License",
        "Apache-2.0": "Apache License",
        "GPL-3.0-or-later": "GNU GENERAL PUBLIC LICENSE",
        "proprietary": f"Copyright (c) {CONTEXT['copyright_year']} ",
    }[answers["license"]]
    assert text.strip().startswith(first_line)
    if answers["license"] in ("MIT", "BSD-3-Clause", "proprietary"):
        assert f"{CONTEXT['copyright_year']}" in text and CONTEXT["author_name"] in text
    spdx = "LicenseRef-Proprietary" if answers["license"] == "proprietary" else answers["license"]
    assert f'license = "{spdx}"\n' in (project / "pyproject.toml").read_text()
    assert f'org.opencontainers.image.licenses="{spdx}"' in (project / "Dockerfile").read_text()
