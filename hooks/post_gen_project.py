"""Shape the baked project to the chosen options, then verify it.

Deterministic on purpose (no network, git or Docker), so `cruft update` can
run it again. The functions take the answers and a folder; main() wires them.
"""

import json
import os
import re
import shutil
import stat
import sys
from pathlib import Path

COMMON = [
    ".dockerignore",
    ".editorconfig",
    ".env.example",
    ".gitignore",
    ".hadolint.yaml",
    ".pre-commit-config.yaml",
    "Dockerfile",
    "LICENSE",
    "Makefile",
    "README.md",
    "app/__init__.py",
    "app/logs.py",
    "app/static/favicon.svg",
    "app/static/style.css",
    "app/templates/base.html",
    "app/templates/index.html",
    "compose.dev.yaml",
    "docker/app/healthcheck.py",
    "docker/app/uwsgi.ini",
    "docker/entrypoint.sh",
    "docker/nginx/entrypoint.d/20-render-config.sh",
    "docker/nginx/nginx.conf.template",
    "docker/nginx/server.d/no-dot-files.conf",
    "docker/app/entrypoint.d/10-uwsgi-processes.envsh",
    "pyproject.toml",
    "requirements-dev.txt",
    "requirements.txt",
    "scripts/publish.sh",
    "scripts/smoke-test.sh",
    "tests/test_app.py",
    "wsgi.py",
]
# Files that exist only for some answers: {prompt: {file: answers that keep it}}.
OPTIONAL = {
    "deployment": {
        "install.sh": ("single",),
        "docker/supervise.sh": ("single",),
        "compose.yaml": ("split",),
        "deploy": ("split",),
    },
    "https": {"scripts/self-signed-cert.sh": ("provided", "self-signed")},
    "ci": {".github": ("github",), ".gitlab-ci.yml": ("gitlab",)},
}
# {% raw %}
# Jinja that was not rendered; GitHub's own ${{ ... }} expressions are fine.
UNRENDERED = re.compile(r"(?<!\$)\{\{|\{%|\{#")
# {% endraw %}
# Flask's templates are Jinja on purpose (the app's own tests render them).
FLASK_TEMPLATES = "app/templates"


def unwanted(answers):
    """Paths of options the user did not choose."""
    return sorted(
        path
        for prompt, files in OPTIONAL.items()
        for path, keep_for in files.items()
        if answers[prompt] not in keep_for
    )


def expected(answers):
    wanted = [
        path
        for prompt, files in OPTIONAL.items()
        for path, keep_for in files.items()
        if answers[prompt] in keep_for
    ]
    return sorted(COMMON + wanted)


def remove(root, paths):
    for path in paths:
        target = root / path
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def make_executable(root):
    """Every shell script may be run directly (the image's entrypoint runs them)."""
    for target in root.rglob("*.sh"):
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def unrendered(root):
    """Files with Jinja that the bake left unrendered, relative to root."""
    return [
        relative
        for relative, path in sorted((str(p.relative_to(root)), p) for p in root.rglob("*"))
        if path.is_file()
        and not relative.startswith(FLASK_TEMPLATES + "/")
        and UNRENDERED.search(path.read_text(encoding="utf-8", errors="replace"))
    ]


def problems(root, answers):
    """What is wrong with the baked tree: missing files, leftover Jinja."""
    found = [f"missing {path}" for path in expected(answers) if not (root / path).exists()]
    found += [f"leftover option {path}" for path in unwanted(answers) if (root / path).exists()]
    found += [f"unrendered template syntax in {path}" for path in unrendered(root)]
    return found


def main():
    answers = json.loads(r"""{{ cookiecutter | jsonify }}""")
    root = Path(os.getcwd())
    remove(root, unwanted(answers))
    make_executable(root)
    found = problems(root, answers)
    if found:
        print(f"ERROR: the baked project is broken: {'; '.join(found)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
