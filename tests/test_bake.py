"""Bake every combination of choices; lint and test each with the real tools."""

import hashlib
import json
import os
import re
import shutil
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from helpers import (
    CONTEXT,
    IMAGE,
    IMAGE_SETTINGS,
    LOG_CAPS,
    Bake,
    actionlint,
    combination_id,
    combinations,
    load_hook,
    run,
    script_defaults,
    tool,
)

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
    assert "ARG BUILD_BASE_IMAGE=${BASE_IMAGE}\n" in dockerfile
    # The stages that only prepare files (the venv, the static files) run on
    # the build platform, the others on the image's.
    froms = re.findall(r"^FROM (--platform=\S+ )?(\S+)", dockerfile, re.MULTILINE)
    native = ("--platform=$BUILDPLATFORM ", "${BUILD_BASE_IMAGE}")
    assert set(froms) == {native, ("", "${BASE_IMAGE}")}


def test_scripts_are_executable(baked):
    project = baked.project
    scripts = list(project.rglob("*.sh"))
    assert scripts
    for script in scripts:
        assert script.stat().st_mode & 0o111, script


# This environment's tools first, as in the activated .venv of requirements-dev.txt. No
# caches are written: other tests read every file of the bake.
DEV_ENV = {
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    "RUFF_NO_CACHE": "true",
    "PYTEST_ADDOPTS": "-p no:cacheprovider",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def make(project, *targets, check=True):
    """The baked Makefile's targets, run as a developer runs them."""
    return run("make", "--no-print-directory", *targets, cwd=project, env=DEV_ENV, check=check)


def digest(*parts):
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def distinct(bakes, select, config=()):
    """{key: (bake, file)}: each file select(project) yields, once per distinct
    content (and path, and content of the config files that shape a tool's
    verdict on it), with the first bake that holds it."""
    found = {}
    for bake in bakes:
        shaping = digest(*(read(bake.project / name) for name in config))
        for file in select(bake.project):
            key = (shaping, str(file.relative_to(bake.project)), digest(file.read_bytes()))
            found.setdefault(key, (bake, file))
    return found


def read(path):
    return path.read_bytes() if path.exists() else b"(none)"


def named(text, bakes):
    """A tool's output with each bake's folder named by its combination."""
    for bake in bakes:
        text = text.replace(f"{bake.project}/", f"[{bake.name}]/")
    return text


def run_once_per_distinct_file(bakes, select, config, command):
    """command over the distinct files of every bake, run once per distinct
    content of its config files, in a bake that holds them; the keys checked."""
    files = distinct(bakes, select, config)
    groups = {}
    for (shaping, *_), (bake, file) in files.items():
        groups.setdefault(shaping, (bake, []))[1].append(file)

    def check(bake, group):
        result = run(*command, *group, cwd=bake.project, env=DEV_ENV, check=False)
        output = f"{' '.join(command)}: {result.stdout}{result.stderr}"
        return named(output, bakes) if result.returncode != 0 else None

    assert [failure for failure in concurrently(check, groups.values()) if failure] == []
    return set(files)


def concurrently(function, arguments):
    """function(*each argument), one process's tool per core at a time."""
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        return list(pool.map(lambda args: function(*args), arguments))


def assert_covers(checked, bakes, select):
    """No file escapes the check: each (path, content) any bake of any
    combination holds was among the files checked."""
    baked = {
        (str(file.relative_to(bake.project)), digest(file.read_bytes()))
        for bake in bakes
        for file in select(bake.project)
    }
    assert baked and {(path, content) for _, path, content in checked} == baked


def python_files(project):
    return sorted(project.rglob("*.py"))


def shell_scripts(project):  # find . -name '*.*sh' -not -path './.venv/*'
    return sorted(p for p in project.rglob("*.*sh") if p.is_file() and ".venv" not in p.parts)


def markdown_files(project):  # pymarkdown scan --recurse --exclude .venv/ .
    return sorted(p for p in project.rglob("*.md") if ".venv" not in p.parts)


RUFF_CONFIG = ["pyproject.toml", "ruff.toml", ".ruff.toml"]
SHELLCHECK = "find . -name '*.*sh' -not -path './.venv/*' -exec shellcheck {} +"
PYMARKDOWN = "pymarkdown scan --recurse --exclude .venv/ ."

# make lint's commands (the baked Makefile), each run over the distinct files
# of every bake: (what it reads, the files configuring it, the command).
LINTS = {
    "ruff check .": (python_files, RUFF_CONFIG, ["ruff", "check", "--force-exclude"]),
    "ruff format --check .": (
        python_files,
        RUFF_CONFIG,
        ["ruff", "format", "--check", "--force-exclude"],
    ),
    "hadolint Dockerfile": (
        lambda project: [project / "Dockerfile"],
        [".hadolint.yaml"],
        ["hadolint"],
    ),
    SHELLCHECK: (
        shell_scripts,
        [".shellcheckrc"],
        ["shellcheck"],
    ),
    PYMARKDOWN: (
        markdown_files,
        ["pyproject.toml", ".pymarkdown", ".pymarkdown.json", ".pymarkdown.yaml"],
        ["pymarkdown", "scan"],
    ),
}


@pytest.mark.parametrize("command", LINTS)
def test_lint_passes_on_each_distinct_file(bakes, command):
    """Each of make lint's linters on every distinct file of every bake (with
    warnings failing, as CI and pre-commit run them), once per content."""
    lint_each_distinct_file(bakes, command)
    assert len(bakes) == len(combinations())


def lint_each_distinct_file(bakes, command):
    select, config, (name, *args) = LINTS[command]
    checked = run_once_per_distinct_file(bakes, select, config, [tool(name), *args])
    assert_covers(checked, bakes, select)


def test_make_lint_runs_these_linters(bakes):
    """The linters above are make lint's, in every distinct Makefile."""
    makefiles = distinct(bakes, lambda project: [project / "Makefile"])
    for bake, _ in makefiles.values():
        lines = make(bake.project, "-n", "lint").stdout.splitlines()
        assert lines == list(LINTS), bake.name


# What the baked project's own tests read: its Python, their data (templates,
# static files) and pytest's settings (pyproject.toml's [tool.pytest]).
TEST_INPUTS = ["app", "tests", "migrations", "*.py", "pytest.ini", "conftest.py"]


def inputs_of_tests(project):
    files = sorted(
        file
        for pattern in TEST_INPUTS
        for path in project.glob(pattern)
        for file in ([path] if path.is_file() else path.rglob("*"))
        if file.is_file()
    )
    settings = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["pytest"]
    return [str(f.relative_to(project)).encode() + f.read_bytes() for f in files] + [
        json.dumps(settings, sort_keys=True).encode()
    ]


def test_baked_tests_pass_on_each_distinct_source(bakes):
    """The baked project's own tests (make test), once per distinct set of the
    files they read."""
    assert make_test_each_distinct_source(bakes) > 1 and len(bakes) == len(combinations())


def make_test_each_distinct_source(bakes):
    """make test once per distinct set of what it reads; how many sets."""
    sources = {}
    for bake in bakes:
        sources.setdefault(digest(*inputs_of_tests(bake.project)), bake)

    def check(bake):
        result = make(bake.project, "test", check=False)
        return f"{bake.name}: {result.stdout}{result.stderr}" if result.returncode else None

    assert [
        failure for failure in concurrently(check, [(b,) for b in sources.values()]) if failure
    ] == []
    return len(sources)


def covering(combos, features):
    """The fewest combinations (greedily, first first) holding each feature
    (a function of the answers) of every combination."""
    wanted = {(i, feature(answers)) for answers in combos for i, feature in enumerate(features)}
    chosen = []
    while wanted:
        best = max(combos, key=lambda a: len(wanted & {(i, f(a)) for i, f in enumerate(features)}))
        wanted -= {(i, f(best)) for i, f in enumerate(features)}
        chosen.append(best)
    return chosen


# make check, wired as the Makefile writes it, on bakes that hold every answer
# of these choices, and each deployment with each https answer, with and
# without a database (backups).
MAKE_CHECK_COVERS = [
    *(lambda answers, key=key: answers[key] for key in ["database", "ci"]),
    lambda answers: (answers["deployment"], answers["https"], answers["database"] == "none"),
]
MAKE_CHECKED = covering(combinations(), MAKE_CHECK_COVERS)


@pytest.mark.parametrize("answers", MAKE_CHECKED, ids=combination_id)
def test_make_check_passes(bake_store, answers):
    """Every lint and the baked project's own tests, as CI and pre-commit run
    them: make check itself."""
    make(bake_store.get(combinations().index(answers)).project, "check")


def test_make_check_runs_on_each_distinct_makefile(bakes):
    checked = {combination_id(answers) for answers in MAKE_CHECKED}
    makefiles = {digest(read(bake.project / "Makefile")): bake.name for bake in bakes}
    assert {
        digest(read(bake.project / "Makefile")) for bake in bakes if bake.name in checked
    } == set(makefiles)


def render_nginx_config(project, https, tmp_path, certificate):
    """The entrypoint's script renders nginx's configuration from the image's
    default settings (per-client limits on, to check their lines too), and
    nginx -t accepts it. The image's paths are its ENV: here they lead to the
    project's files, a test certificate and a folder of the test's own."""
    generated = tmp_path / "generated"
    nginx = project / "docker" / "nginx"
    paths = image_paths(project)
    assert paths["NGINX_PORT"] == IMAGE["container_port"]
    assert ("NGINX_TLS_PORT" in paths) == (https != "none")
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
    assert ("ssl_certificate " in text) == (https != "none")
    # -t parses the whole file, includes and all, and opens what it would use.
    run(tool("nginx"), "-t", "-q", "-e", "stderr", "-c", config)


def nginx_inputs(bake):
    """What the rendered configuration depends on: nginx's folder, the image's
    defaults and paths, and whether HTTPS is on."""
    nginx = bake.project / "docker" / "nginx"
    files = sorted(f for f in nginx.rglob("*") if f.is_file())
    image = {**image_defaults(bake.project), **image_paths(bake.project)}
    defaults = json.dumps(image, sort_keys=True)
    parts = [str(f.relative_to(nginx)).encode() + f.read_bytes() for f in files]
    return digest(*parts, defaults.encode(), bake.answers["https"].encode())


def test_nginx_config_is_valid_on_each_distinct_input(bakes, tmp_path, certificate):
    """nginx -t on the configuration each distinct set of inputs renders."""
    inputs = {}
    for bake in bakes:
        inputs.setdefault(nginx_inputs(bake), bake)
    for number, bake in enumerate(inputs.values()):
        try:
            render_nginx_config(
                bake.project, bake.answers["https"], tmp_path / str(number), certificate
            )
        except AssertionError as error:
            raise AssertionError(f"{bake.name}: {error}") from error
    assert len(inputs) > 1 and len(bakes) == len(combinations())


# Each configuration file with the schema it is written for (check-jsonschema's
# built-in ones), in every bake that holds it.
SCHEMAS = {
    "compose.yaml": "vendor.compose-spec",
    ".github/workflows/ci.yml": "vendor.github-workflows",
    ".github/dependabot.yml": "vendor.dependabot",
    ".gitlab-ci.yml": "vendor.gitlab-ci",
    "renovate.json": "vendor.renovate",
}


# Every container's log, as compose.yaml and deploy/docker-stack.yml cap it.
CAPPED_LOG = {
    "driver": "json-file",
    "options": {
        "max-size": f"${{LOG_MAX_SIZE:-{LOG_CAPS['LOG_MAX_SIZE']}}}",
        "max-file": f"${{LOG_MAX_FILES:-{LOG_CAPS['LOG_MAX_FILES']}}}",
    },
}


def test_every_compose_service_has_a_capped_log(bakes):
    """No service of any bake's compose.yaml or stack file logs without a cap."""
    checked = 0
    for bake in bakes:
        for path in "compose.yaml", "deploy/docker-stack.yml":
            if (bake.project / path).exists():
                services = yaml.safe_load((bake.project / path).read_text())["services"]
                uncapped = [name for name, service in services.items()
                            if service.get("logging") != CAPPED_LOG]  # fmt: skip
                assert uncapped == [], f"{bake.name}: {path}"
                checked += 1
    split = sum(bake.answers["deployment"] == "split" for bake in bakes)
    assert checked == 2 * split > 0  # both files, in every split bake


def existing(path):
    return lambda project: [project / path] if (project / path).exists() else []


@pytest.mark.parametrize("path", SCHEMAS)
def test_config_file_matches_its_schema(bakes, path):
    """Each distinct content of the file, validated against its schema."""
    select = existing(path)
    command = [tool("check-jsonschema"), "--builtin-schema", SCHEMAS[path]]
    checked = run_once_per_distinct_file(bakes, select, [], command)
    assert_covers(checked, bakes, select)


def test_github_workflow_passes_actionlint(bakes):
    """actionlint on each distinct GitHub workflow (see helpers.actionlint)."""
    files = distinct(bakes, existing(".github/workflows/ci.yml"), [".github/actionlint.yaml"])
    assert files
    for _, workflow in files.values():
        result = actionlint(workflow)
        assert result.returncode == 0, named(result.stdout, bakes)


SETTINGS = [
    name
    for group in ["common", "uwsgi", "nginx", "proxy", "tls", "acme", "worker"]
    for name in IMAGE_SETTINGS[group]
] + sorted({name for group in IMAGE_SETTINGS["database"].values() for name in group})


def image_defaults(project):
    """{setting: default} of the settings (IMAGE_SETTINGS) in the Dockerfile's
    ENV and the image's scripts (script_defaults)."""
    dockerfile = (project / "Dockerfile").read_text()
    names = "|".join(SETTINGS)
    defaults = {
        name: value.strip('"')
        for name, value in re.findall(rf'\b({names})=("[^"]*"|\S+)', dockerfile)
    }
    for given in script_defaults(project).values():
        defaults |= {name: value for name, value in given.items() if name in SETTINGS}
    return defaults


def image_paths(project):
    """{name: value} of the Dockerfile's ENV that place things in the image
    (ports, socket, folders): the ones nginx's and uWSGI's files read."""
    dockerfile = (project / "Dockerfile").read_text()
    names = r"NGINX_(?:PORT|TLS_PORT|TLS_DIR|TEMPLATE|RUN_DIR|SNIPPETS|STATIC_ROOT)|UWSGI_SOCKET"
    return dict(re.findall(rf"\b({names})=(\S+)", dockerfile))


# Where a setting's default may be written: the image (its Dockerfile, or
# the script that reads the setting), and the settings table and .env.example
# that document it (test_env_example_documents_the_image).
DEFAULTS_LIVE_IN = {"Dockerfile", "docs/settings.md", ".env.example"}


def test_each_default_is_stated_once(baked):
    """A default is written in the Dockerfile, docs/settings.md and .env.example only:
    elsewhere a setting is passed on by name, so the image's default applies."""
    project = baked.project
    defaults = {name: value for name, value in image_defaults(project).items() if value}
    assert {"UWSGI_PROCESSES", "NGINX_MAX_BODY_SIZE"} <= set(defaults)
    found = []
    live_in = DEFAULTS_LIVE_IN | set(script_defaults(project))
    for path in sorted(project.rglob("*")):
        relative = str(path.relative_to(project))
        if not path.is_file() or relative in live_in or relative == "LICENSE":
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
    default, the resource limits (none by default) and the log's caps."""
    lines = (baked.project / ".env.example").read_text().splitlines()
    documented = dict(line[2:].split("=", 1) for line in lines if re.match(r"# [A-Z_]+=", line))
    limits = {"MEMORY_LIMIT": "", "CPU_LIMIT": "", **LOG_CAPS}
    # The host's ports, read by install.sh or compose and make dev.
    ports = {"HOST_PORT": CONTEXT["host_port"], "DEV_PORT": "8000"}
    if baked.answers["https"] != "none":
        ports |= {"HTTPS_PORT": "8443", "DEV_HTTPS_PORT": "8444"}
    if baked.answers["https"] == "acme":
        # The ACME CA's certificate: a file on the host, mounted (none by default).
        ports |= {"ACME_CA_BUNDLE": ""}
    assert documented == {**image_defaults(baked.project), **limits, **ports}


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


# The check above that each fault fails, when run once per distinct file.
CHECKS_OF_FAULTS = {
    "failing-test": make_test_each_distinct_source,
    "ruff": lambda bakes: lint_each_distinct_file(bakes, "ruff check ."),
    "shellcheck": lambda bakes: lint_each_distinct_file(bakes, SHELLCHECK),
    "hadolint": lambda bakes: lint_each_distinct_file(bakes, "hadolint Dockerfile"),
    "markdown": lambda bakes: lint_each_distinct_file(bakes, PYMARKDOWN),
    "markdown-docs": lambda bakes: lint_each_distinct_file(bakes, PYMARKDOWN),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_distinct_file_checks_fail_on_a_fault(default_bake, tmp_path, fault):
    """Of two bakes, the one with the fault fails the check, named."""
    clean = Bake({"name": "clean"}, default_bake)
    faulty = Bake({"name": "faulty"}, tmp_path / "project")
    shutil.copytree(default_bake, faulty.project)
    path, text = FAULTS[fault]
    with (faulty.project / path).open("a") as file:
        file.write(text)
    with pytest.raises(AssertionError, match=re.escape(faulty.name)):
        CHECKS_OF_FAULTS[fault]([clean, faulty])
    CHECKS_OF_FAULTS[fault]([clean])


def test_pre_commit_passes_on_a_fresh_bake(default_bake, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(default_bake, project)
    env = {**DEV_ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit")}
    run("git", "init", "--quiet", cwd=project)
    run("git", "add", "--all", cwd=project)
    result = run(tool("pre-commit"), "run", "--all-files", cwd=project, env=env)
    assert "make lint" in result.stdout and "make test" in result.stdout
