#!/usr/bin/env python3
"""Write the template's hash-locked requirements*.txt anew.

For each answer to `database` a project is baked and its own `make lock` run
(pip-compile keeps the pins the template has, and adds what requirements*.in
gained); the locks are then merged into the template's files, with a Jinja
condition around each entry that not every answer has. tests/test_lock.py
checks that a baked project's `make lock` changes nothing.

    .venv/bin/python scripts/lock-requirements.py     (pip-tools from tests/requirements.txt)
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "{{cookiecutter.project_slug}}"
LOCKS = ["requirements.txt", "requirements-dev.txt"]
DATABASES = json.loads((REPO / "cookiecutter.json").read_text())["database"]
# An entry starts at a line "name==version \"; a comment line at the left
# margin (pip-compile's "unsafe" section) stands alone.
ENTRY = re.compile(r"^(?=[A-Za-z0-9#])", re.MULTILINE)


def condition(answers):
    """The Jinja test for the database answers an entry belongs to."""
    missing = [answer for answer in DATABASES if answer not in answers]
    if len(missing) == 1:
        return f'cookiecutter.database != "{missing[0]}"'
    if len(answers) == 1:
        return f'cookiecutter.database == "{answers[0]}"'
    return f"cookiecutter.database in {json.dumps(answers)}"


def entries(text):
    """(header, [(key, entry text)]); pip-compile sorts the entries."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    chunks = [chunk for chunk in ENTRY.split("".join(lines[start:])) if chunk]
    return "".join(lines[:start]), [(chunk.split("=", 1)[0].lower(), chunk) for chunk in chunks]


def merge(locks):
    """One Jinja file from {answer: lock text}."""
    parsed = {answer: entries(text) for answer, text in locks.items()}
    headers = {header for header, _ in parsed.values()}
    assert len(headers) == 1, f"the locks' headers differ: {headers}"
    texts = {}
    for answer, (_, chunks) in parsed.items():
        for key, chunk in chunks:
            texts.setdefault(key, {}).setdefault(chunk, []).append(answer)
    out = [headers.pop()]
    for key in in_order([[key for key, _ in chunks] for _, chunks in parsed.values()]):
        # The pin and hashes once when only pip-compile's "# via" lines differ.
        pins = {chunk.split("    #", 1)[0] for chunk in texts[key]}
        everywhere = sum(map(len, texts[key].values())) == len(DATABASES)
        if len(pins) == 1 and len(texts[key]) > 1 and everywhere:
            [pin] = pins
            out.append(pin)
            versions = {chunk[len(pin) :]: answers for chunk, answers in texts[key].items()}
        else:
            versions = texts[key]
        for chunk, answers in versions.items():
            if len(answers) == len(DATABASES):
                out.append(chunk)
            else:
                out.append(f"{{% if {condition(answers)} %}}\n{chunk}{{% endif %}}\n")
    return "".join(out)


def in_order(key_lists):
    """The keys of every list, each list's order kept: the longest list, the
    others' keys placed after their predecessor there."""
    order = []
    for keys in sorted(key_lists, key=len, reverse=True):
        previous = None
        for key in keys:
            if key not in order:
                order.insert(order.index(previous) + 1 if previous else 0, key)
            previous = key
    return order


def main():
    locks = {name: {} for name in LOCKS}
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with tempfile.TemporaryDirectory() as scratch:
        for answer in DATABASES:
            extra = {"database": answer, "deployment": "split"}
            project = Path(cookiecutter(str(REPO), no_input=True, extra_context=extra,
                                        output_dir=f"{scratch}/{answer}"))  # fmt: skip
            subprocess.run(
                ["make", "--no-print-directory", "lock"], cwd=project, env=env, check=True
            )
            for name in LOCKS:
                locks[name][answer] = (project / name).read_text()
    for name in LOCKS:
        (TEMPLATE / name).write_text(merge(locks[name]))
        print(f"{name}: {', '.join(DATABASES)} merged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
