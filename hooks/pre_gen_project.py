"""Refuse answers that would bake a broken project, with one line naming the rule.

Each check is a pure function: it takes the answer and returns an error
message, or None when the answer is fine. Cookiecutter removes the output
folder when this hook exits non-zero.
"""

import json
import re
import sys

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# Docker: a container name starts with a letter or digit, then [a-zA-Z0-9_.-].
CONTAINER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
# Patterns are used with fullmatch: "$" would let a trailing newline through.
# Docker's reference grammar, without a tag: optional registry host[:port],
# then lowercase path components separated by "/".
IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
HOST_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
IMAGE_HOST = rf"{HOST_LABEL}(?:\.{HOST_LABEL})*(?::[0-9]+)?"
IMAGE_NAME = re.compile(rf"(?:{IMAGE_HOST}/)?{IMAGE_COMPONENT}(?:/{IMAGE_COMPONENT})*")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Characters that would break a quoted string in the Dockerfile, TOML or shell.
UNSAFE_TEXT = re.compile(r'["\\$`\x00-\x1f\x7f]')


def check_slug(value):
    if not SLUG.fullmatch(value):
        return "use lowercase letters, digits and single dashes, e.g. my-app"
    if len(value) > 63:
        return "use at most 63 characters"
    return None


def check_port(value):
    if not re.fullmatch(r"[0-9]{1,5}", value) or not 1 <= int(value) <= 65535:
        return "use a whole number from 1 to 65535"
    return None


def check_container_name(value):
    if not CONTAINER_NAME.fullmatch(value):
        return "start with a letter or digit, then use letters, digits, '_', '.' or '-'"
    return None


def check_image_name(value):
    # 240, not Docker's 255: the split deployment appends "-proxy".
    if len(value) > 240 or not IMAGE_NAME.fullmatch(value):
        return "use lowercase [registry/]path/name without a tag, e.g. my-app or acme/my-app"
    return None


def check_email(value):
    if not EMAIL.fullmatch(value):
        return "use an address like you@example.com"
    return None


def check_text(value):
    if not value.strip():
        return "must not be empty"
    if UNSAFE_TEXT.search(value):
        return "must be one line without double quotes, backslashes, '$' or backticks"
    return None


def check_name(value):
    if not value.strip():
        return "must not be empty"
    if re.search(r"[\x00-\x1f\x7f]", value):
        return "must be one line"
    if not any(character.isalnum() for character in value):
        return "must contain a letter or digit"
    return None


CHECKS = {
    "project_name": check_name,
    "project_slug": check_slug,
    "description": check_text,
    "author_name": check_text,
    "author_email": check_email,
    "host_port": check_port,
    "container_name": check_container_name,
    "image_name": check_image_name,
}


def database_clash(answers):
    """PostgreSQL runs beside the app in the split deployment's compose file;
    the one container keeps its data in SQLite on its volume instead of
    install.sh growing a second container, its network and its upgrades."""
    if answers["database"] == "postgres" and answers["deployment"] == "single":
        return (
            "database 'postgres': needs deployment 'split' (compose runs PostgreSQL beside"
            " the app); the one-container deployment uses 'sqlite'"
        )
    return None


def worker_clash(answers):
    """The broker and the worker run beside the app in the split deployment's
    compose file; the one container stays one process tree of nginx and uWSGI."""
    if answers["worker"] == "celery" and answers["deployment"] == "single":
        return (
            "worker 'celery': needs deployment 'split' (compose runs the broker and the worker"
            " beside the app); the one-container deployment has no background jobs"
        )
    return None


# Checks of answers together, each returning an error message or None.
CLASHES = [database_clash, worker_clash]


def errors(answers):
    """One message per bad answer, in prompt order, then clashes between answers."""
    found = []
    for key, check in CHECKS.items():
        value = str(answers[key])
        message = check(value)
        if message:
            found.append(f"{key} {value!r}: {message}")
    return found + [message for clash in CLASHES if (message := clash(answers))]


def main():
    answers = json.loads(r"""{{ cookiecutter | jsonify }}""")
    found = errors(answers)
    if found:
        print(f"ERROR: {found[0]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
