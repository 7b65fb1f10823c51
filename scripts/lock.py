#!/usr/bin/env python3
"""Write the template's uv.lock anew, one per database answer.

templates/uv/<database>/ holds, for each answer to `database`, the project's
direct dependencies (dependencies.toml, edited by hand, which the baked
pyproject.toml includes) and their lock, uv.lock, which a bake includes whole
with its own name in the project's entry. For each answer a project is baked
and its own `make lock` run (uv keeps the pins it has and adds what the
dependencies gained); the uv.lock it writes is copied back. tests/test_lock.py
checks that a baked project's `make lock` changes nothing.

    .venv/bin/python scripts/lock.py [ARGS]   (uv from tests/requirements.txt)

ARGS go to `uv lock`, as to `make lock ARGS=...`: --upgrade moves every pin to
the newest release, "--upgrade-package flask" one.
"""

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

REPO = Path(__file__).resolve().parent.parent
LOCKS = REPO / "templates" / "uv"
DATABASES = json.loads((REPO / "cookiecutter.json").read_text())["database"]
# The project's entry in uv.lock names it: the bake renders this.
SLUG = "lock-template-project"
NAME = "{{ cookiecutter.project_slug }}"


def main(args):
    folders = {path.name for path in LOCKS.iterdir() if path.is_dir()}
    if folders != set(DATABASES):
        sys.exit(f"templates/uv/ must have one folder per database answer "
                 f"({', '.join(DATABASES)}), not: {', '.join(sorted(folders))}")  # fmt: skip
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    make = ["make", "--no-print-directory", "lock"] + ([f"ARGS={shlex.join(args)}"] if args else [])
    with tempfile.TemporaryDirectory() as scratch:
        for answer in DATABASES:
            extra = {"database": answer, "deployment": "split", "project_slug": SLUG}
            project = Path(cookiecutter(str(REPO), no_input=True, extra_context=extra,
                                        output_dir=f"{scratch}/{answer}"))  # fmt: skip
            lock = project / "uv.lock"
            if not lock.read_text().strip():
                lock.unlink()  # a new answer's first lock
            subprocess.run(make, cwd=project, env=env, check=True)
            text = lock.read_text().replace(f'name = "{SLUG}"', f'name = "{NAME}"')
            assert text.count(NAME) == 1, f"{answer}: the project's name, once in uv.lock"
            (LOCKS / answer / "uv.lock").write_text(text)
            print(f"templates/uv/{answer}/uv.lock locked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
