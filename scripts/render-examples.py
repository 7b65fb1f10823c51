#!/usr/bin/env python3
"""Bake the examples in examples/ anew, so that a reader sees what the template
makes without baking. tests/test_release.py fails when they are stale.

    .venv/bin/python scripts/render-examples.py     (after scripts/test.sh made .venv)
"""

import shutil
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

REPO = Path(__file__).resolve().parent.parent
# {folder under examples/: answers other than the defaults}
EXAMPLES = {
    "default": {},
    "split-https": {
        "deployment": "split",
        "https": "provided",
        "database": "postgres",
        "ci": "gitlab",
    },
}


def bake(answers, output_dir):
    """The project these answers bake, as a folder under output_dir."""
    return Path(
        cookiecutter(str(REPO), no_input=True, extra_context=answers, output_dir=str(output_dir))
    )


def main():
    for name, answers in EXAMPLES.items():
        with tempfile.TemporaryDirectory() as scratch:
            target = REPO / "examples" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(bake(answers, scratch), target)
            print(f"examples/{name}: {answers or 'the defaults'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
