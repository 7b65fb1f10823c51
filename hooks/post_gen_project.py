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
    "app/errors.py",
    "app/examples.py",
    "app/logs.py",
    "app/metrics.py",
    "app/ready.py",
    "app/routes.py",
    "app/secret_key.py",
    "app/static/favicon.svg",
    "app/static/style.css",
    "app/static/unavailable.html",
    "app/templates/base.html",
    "app/templates/examples.html",
    "app/templates/index.html",
    "compose.dev.yaml",
    "docker/app/healthcheck.py",
    "docker/app/uwsgi.ini",
    "docker/entrypoint.sh",
    "docker/nginx/entrypoint.d/20-render-config.sh",
    "docker/nginx/nginx.conf.template",
    "docker/nginx/server.d/no-dot-files.conf",
    "docker/app/entrypoint.d/05-metrics-dir.sh",
    "docker/app/entrypoint.d/10-uwsgi-processes.envsh",
    "docker/app/entrypoint.d/15-secret-key.sh",
    "docker/uv-requirements.in",
    "docker/uv-requirements.txt",
    "docker/sync-venv.sh",
    "docs/README.md",
    "docs/development.md",
    "docs/files.md",
    "docs/metrics.md",
    "docs/operating.md",
    "docs/publishing.md",
    "docs/settings.md",
    "pyproject.toml",
    "requirements-dev.in",
    "requirements-dev.txt",
    "requirements.in",
    "requirements.txt",
    "scripts/publish.sh",
    "scripts/scan.sh",
    "scripts/make-secrets.sh",
    "scripts/smoke-test.sh",
    "tests/conftest.py",
    "tests/test_app.py",
    "tests/test_errors.py",
    "tests/test_metrics.py",
    "tests/test_examples.py",
    "wsgi.py",
]
DATABASES = ("sqlite", "postgres")
# Files that exist only for some answers: {file: {prompt: answers that keep it}};
# a file is kept when the answer to each prompt listed is among those.
OPTIONAL = {
    "install.sh": {"deployment": ("single",)},
    "docker/supervise.sh": {"deployment": ("single",)},
    "compose.yaml": {"deployment": ("split",)},
    "scripts/deploy.sh": {"deployment": ("split",)},
    "deploy": {"deployment": ("split",)},
    # make dev of an acme bake serves a self-signed certificate too: never a CA's.
    "scripts/self-signed-cert.sh": {"https": ("provided", "self-signed", "acme")},
    "docker/acme": {"https": ("acme",)},
    ".github": {"ci": ("github",)},
    ".gitlab-ci.yml": {"ci": ("gitlab",)},
    "renovate.json": {"ci": ("gitlab",)},
    "app/database.py": {"database": DATABASES},
    "app/tasks.py": {"worker": ("celery",)},
    "app/task_examples.py": {"worker": ("celery",)},
    "tests/test_task_examples.py": {"worker": ("celery",)},
    "migrations": {"database": DATABASES},
    # Backups: SQLite's by the app (its online backup), PostgreSQL's by pg_dump.
    "scripts/backup.sh": {"database": DATABASES},
    "app/backup.py": {"database": ("sqlite",)},
    "tests/test_backup.py": {"database": ("sqlite",)},
    "tests/test_database.py": {"database": DATABASES},
    # One container migrates as it starts; replicas never do (a one-off does).
    "docker/app/entrypoint.d/30-migrate.sh": {"deployment": ("single",), "database": DATABASES},
    # Kubernetes and swarm with the user's PostgreSQL (SQLite stays on one host).
    "deploy/k8s/migrate.yaml": {"deployment": ("split",), "database": ("postgres",)},
    "deploy/k8s/worker.yaml": {"deployment": ("split",), "worker": ("celery",)},
    # The reference: a page for each deployment and option chosen.
    "docs/install.md": {"deployment": ("single",)},
    "docs/compose.md": {"deployment": ("split",)},
    "docs/swarm.md": {"deployment": ("split",)},
    "docs/kubernetes.md": {"deployment": ("split",)},
    "docs/https.md": {"https": ("provided", "self-signed", "acme")},
    "docs/database.md": {"database": DATABASES},
    "docs/sqlite.md": {"database": ("sqlite",)},
    "docs/postgres.md": {"database": ("postgres",)},
    "docs/tasks.md": {"worker": ("celery",)},
    "docs/ci-github.md": {"ci": ("github",)},
    "docs/ci-gitlab.md": {"ci": ("gitlab",)},
}
# {% raw %}
# Jinja that was not rendered; GitHub's own ${{ ... }} expressions are fine.
UNRENDERED = re.compile(r"(?<!\$)\{\{|\{%|\{#")
# {% endraw %}
# Flask's templates are Jinja on purpose (the app's own tests render them).
FLASK_TEMPLATES = "app/templates"


def kept(path, answers):
    return all(answers[prompt] in keep_for for prompt, keep_for in OPTIONAL[path].items())


def unwanted(answers):
    """Paths of options the user did not choose."""
    return sorted(path for path in OPTIONAL if not kept(path, answers))


def expected(answers):
    return sorted(COMMON + [path for path in OPTIONAL if kept(path, answers)])


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
