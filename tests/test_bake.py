"""Bake every combination of choices; lint and test each with the real tools."""

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from helpers import CONTEXT, actionlint, load_hook, run, tool

post = load_hook("post_gen_project")


def top_paths(project):
    """Each baked file as the hooks' table names it: a file, or its optional folder."""
    optional_folders = set(post.OPTIONAL)
    paths = set()
    for file in project.rglob("*"):
        if file.is_file():
            path = str(file.relative_to(project))
            folder = next((f for f in optional_folders if path.startswith(f + "/")), None)
            paths.add(path if path in post.OPTIONAL else folder or path)
    return paths


def test_bakes_the_chosen_layout(baked):
    """Exactly the files the post-gen hook's table lists for these answers."""
    answers, project = baked.answers, baked.project
    assert top_paths(project) == set(post.expected(answers))


def test_no_unrendered_jinja(baked):
    """No cookiecutter Jinja is left; Flask's templates (Jinja for Flask) are
    rendered by the baked project's own tests."""
    assert post.unrendered(baked.project) == []


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


# This environment's tools first, as after pip install -r requirements-dev.txt
# in an activated virtualenv. No caches are written: other tests read every
# file of the bake.
DEV_ENV = {
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    "RUFF_NO_CACHE": "true",
    "PYTEST_ADDOPTS": "-p no:cacheprovider",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def make(project, *targets, check=True):
    """The baked Makefile's targets, run as a developer runs them."""
    return run("make", "--no-print-directory", *targets, cwd=project, env=DEV_ENV, check=check)


def test_make_check_passes(baked):
    """Every lint (ruff, hadolint with warnings failing, shellcheck, pymarkdown)
    and the baked project's own tests, as CI and pre-commit run them."""
    make(baked.project, "check")


def test_nginx_config_is_valid(baked, tmp_path, certificate):
    """The entrypoint's script renders nginx's configuration from the image's
    default settings (per-client limits on, to check their lines too), and
    nginx -t accepts it. The image's paths are its ENV: here they lead to the
    project's files, a test certificate and a folder of the test's own."""
    answers, project = baked.answers, baked.project
    generated = tmp_path / "generated"
    nginx = project / "docker" / "nginx"
    paths = image_paths(project)
    assert paths["NGINX_PORT"] == CONTEXT["_container_port"]
    assert ("NGINX_TLS_PORT" in paths) == (answers["https"] != "none")
    paths.update(
        NGINX_TEMPLATE=str(nginx / "nginx.conf.template"),
        NGINX_RUN_DIR=str(generated),
        NGINX_SNIPPETS=str(nginx / "server.d"),
        NGINX_STATIC_ROOT=str(project / "app" / "static"),
    )
    if "NGINX_TLS_DIR" in paths:
        paths["NGINX_TLS_DIR"] = str(certificate.parent)
    if "UWSGI_SOCKET" in paths:
        paths["UWSGI_SOCKET"] = str(tmp_path / "uwsgi.sock")
    limits = {"NGINX_LIMIT_CONN": "20", "NGINX_LIMIT_REQ": "10r/s burst=20"}
    script = nginx / "entrypoint.d" / "20-render-config.sh"
    run("sh", script, env={**image_defaults(project), **paths, **limits})
    config = generated / "nginx.conf"
    text = config.read_text()
    assert not re.findall(r"\$\{\w+\}", text)  # every setting filled in
    limit_req = (generated / "limit-req.conf").read_text()
    assert limit_req == "limit_req zone=per_client_rate burst=20 nodelay;\n"
    assert ("ssl_certificate " in text) == (answers["https"] != "none")
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


# The CI file and the dependency-update configuration of each CI platform.
SCHEMAS = {
    "github": [
        ("vendor.github-workflows", ".github/workflows/ci.yml"),
        ("vendor.dependabot", ".github/dependabot.yml"),
    ],
    "gitlab": [("vendor.gitlab-ci", ".gitlab-ci.yml"), ("vendor.renovate", "renovate.json")],
}


@pytest.mark.parametrize("platform", SCHEMAS)
def test_ci_files_match_their_schemas(baked, platform):
    answers, project = baked.answers, baked.project
    for schema, path in SCHEMAS[platform]:
        if answers["ci"] != platform:
            assert not (project / path).exists()
        else:
            run(tool("check-jsonschema"), "--builtin-schema", schema, str(project / path))
    if answers["ci"] == platform == "github":
        result = actionlint(project / ".github" / "workflows" / "ci.yml")
        assert result.returncode == 0, result.stdout


SETTINGS = [
    name
    for group in ["_common_settings", "_uwsgi_settings", "_nginx_settings"]
    + ["__proxy_settings", "_tls_settings"]
    for name in CONTEXT[group]
] + sorted({name for group in CONTEXT["__database_settings"].values() for name in group})


def image_defaults(project):
    """{setting: default} of the settings (cookiecutter.json) in the Dockerfile's ENV."""
    dockerfile = (project / "Dockerfile").read_text()
    names = "|".join(SETTINGS)
    return {
        name: value.strip('"')
        for name, value in re.findall(rf'\b({names})=("[^"]*"|\S+)', dockerfile)
    }


def image_paths(project):
    """{name: value} of the Dockerfile's ENV that place things in the image
    (ports, socket, folders): the ones nginx's and uWSGI's files read."""
    dockerfile = (project / "Dockerfile").read_text()
    names = r"NGINX_(?:PORT|TLS_PORT|TLS_DIR|TEMPLATE|RUN_DIR|SNIPPETS|STATIC_ROOT)|UWSGI_SOCKET"
    return dict(re.findall(rf"\b({names})=(\S+)", dockerfile))


# Where a setting's default may be written: the image, and the settings table
# and .env.example that document it (test_env_example_documents_the_image).
DEFAULTS_LIVE_IN = {"Dockerfile", "docs/settings.md", ".env.example"}


def test_each_default_is_stated_once(baked):
    """A default is written in the Dockerfile, docs/settings.md and .env.example only:
    elsewhere a setting is passed on by name, so the image's default applies."""
    project = baked.project
    defaults = {name: value for name, value in image_defaults(project).items() if value}
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
                alone = rf"[\"']?{re.escape(value)}(?![\w.-])"
                # The setting given its default (NAME=value, NAME: value,
                # name: NAME value: value), or a value too particular to be chance.
                assigned = re.search(rf"\b{name}\b[\"']?(\s*[=:]|\s+value:)\s*{alone}", line)
                particular = not value.isdigit() and len(value) > 4
                if assigned or particular and re.search(rf"(?<![\w.-]){alone}", line):
                    found.append(f"{relative}:{number}: {name}={value}: {line.strip()}")
    assert found == []


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


def test_env_example_documents_the_image(baked):
    """.env.example lists every setting the image(s) read, with the image's
    default, and the resource limits (none by default)."""
    lines = (baked.project / ".env.example").read_text().splitlines()
    documented = dict(line[2:].split("=", 1) for line in lines if re.match(r"# [A-Z_]+=", line))
    assert documented == {**image_defaults(baked.project), "MEMORY_LIMIT": "", "CPU_LIMIT": ""}


# A fault of each kind that make check must catch: (file, text appended).
FAULTS = {
    "failing-test": ("tests/test_app.py", "\n\ndef test_fails():\n    assert False\n"),
    "ruff": ("app/__init__.py", "\nimport os\n"),
    "shellcheck": ("scripts/smoke-test.sh", "\necho $undefined_and_unquoted\n"),
    "hadolint": ("Dockerfile", "\nRUN cd /tmp\n"),
    "markdown": ("README.md", "\n#Heading without a space\n"),
    "markdown-docs": ("docs/operating.md", "\n#Heading without a space\n"),
}


@pytest.fixture(scope="module")
def default_bake(cookies_session):
    result = cookies_session.bake()
    assert result.exit_code == 0, result.exception
    return result.project_path


@pytest.mark.parametrize("fault", FAULTS)
def test_make_check_fails_on_a_fault(default_bake, tmp_path, fault):
    project = tmp_path / "project"
    shutil.copytree(default_bake, project)
    path, text = FAULTS[fault]
    with (project / path).open("a") as file:
        file.write(text)
    assert make(project, "check", check=False).returncode != 0


def test_pre_commit_passes_on_a_fresh_bake(default_bake, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(default_bake, project)
    env = {**DEV_ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit")}
    run("git", "init", "--quiet", cwd=project)
    run("git", "add", "--all", cwd=project)
    result = run(tool("pre-commit"), "run", "--all-files", cwd=project, env=env)
    assert "make lint" in result.stdout and "make test" in result.stdout
