#!/usr/bin/env python3
"""Write the template's hash-locked requirements anew, one folder per answer.

templates/requirements/<database>[-celery]/ holds, for each answer to
`database`, and with `worker: celery` in the "-celery" folders, the project's
requirements.in and requirements-dev.in (edited by hand) and their
locks, requirements.txt and requirements-dev.txt; the baked project's files
include that folder's, whole. For each answer a project is baked and its own
`make lock` run (uv pip compile keeps the pins it has and adds what the .in
files gained); the locks it writes are copied back, with docker/uv-requirements.txt
(uv's own pin, the same for every answer). tests/test_lock.py checks that a
baked project's `make lock` changes nothing.

    .venv/bin/python scripts/lock-requirements.py [ARGS]   (uv from tests/requirements.txt)

ARGS go to uv pip compile, as to `make lock ARGS=...`: --upgrade moves every
pin to the newest release, "--upgrade-package flask" one.
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
REQUIREMENTS = REPO / "templates" / "requirements"
SOURCES = ["requirements.in", "requirements-dev.in"]
LOCKS = ["requirements.txt", "requirements-dev.txt"]
CHOICES = json.loads((REPO / "cookiecutter.json").read_text())
# {folder: the answers whose requirements it holds}
FOLDERS = {
    database + ("" if worker == "none" else f"-{worker}"): {"database": database, "worker": worker}
    for database in CHOICES["database"]
    for worker in CHOICES["worker"]
}
UV = "docker/uv-requirements.txt"


def main(args):
    folders = {path.name for path in REQUIREMENTS.iterdir() if path.is_dir()}
    if folders != set(FOLDERS):
        sys.exit(f"templates/requirements/ must have one folder per database and worker answer "
                 f"({', '.join(FOLDERS)}), not: {', '.join(sorted(folders))}")  # fmt: skip
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    make = ["make", "--no-print-directory", "lock"] + ([f"ARGS={shlex.join(args)}"] if args else [])
    uv_locks = set()
    with tempfile.TemporaryDirectory() as scratch:
        for answer, answers in FOLDERS.items():
            extra = {**answers, "deployment": "split"}
            project = Path(cookiecutter(str(REPO), no_input=True, extra_context=extra,
                                        output_dir=f"{scratch}/{answer}"))  # fmt: skip
            for name in SOURCES:
                # The bake includes them whole; a difference would be a bug.
                assert (project / name).read_text() == (REQUIREMENTS / answer / name).read_text()
            subprocess.run(make, cwd=project, env=env, check=True)
            for name in LOCKS:
                (REQUIREMENTS / answer / name).write_text((project / name).read_text())
            uv_locks.add((project / UV).read_text())
            print(f"templates/requirements/{answer}/: {', '.join(LOCKS)} locked")
    assert len(uv_locks) == 1, f"{UV}: every answer's make lock writes the same"
    (REPO / "{{cookiecutter.project_slug}}" / UV).write_text(uv_locks.pop())
    print(f"{{{{cookiecutter.project_slug}}}}/{UV} locked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
