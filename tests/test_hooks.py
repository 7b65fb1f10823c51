"""Unit tests of the hooks' pure functions; main() (which holds the Jinja) never runs."""

import stat

import pytest
from helpers import CONTEXT, combination_id, combinations, load_hook

pre = load_hook("pre_gen_project")
post = load_hook("post_gen_project")


def show(value):
    """A readable test id: plain values as they are, odd ones as repr."""
    return value if value and value.isprintable() and value == value.strip() else repr(value)


def cases(table, marks=()):
    """{check: {rule: [values]}} -> params (check, value, rule) with ids like check_port=0."""
    return [
        pytest.param(getattr(pre, check), value, rule, id=f"{check}={show(value)}", marks=marks)
        for check, rules in table.items()
        for rule, values in rules.items()
        for value in values
    ]


GOOD = {
    "check_slug": ["a", "my-app", "app2", "a1-b2-c3", "x" * 63],
    "check_port": ["1", "80", "1337", "8080", "65535"],
    "check_container_name": ["ab", "web", "my-app", "My_App.2", "0web", "a-"],
    "check_image_name": [
        "app",
        "my-app",
        "acme/my-app",
        "localhost/app",
        "registry.example.com:5000/acme/app",
        "a__b.c_d---e",
        "x" * 240,
    ],
    "check_email": ["you@example.com", "first.last+tag@mail.example.org", "a_b%c-d@x-y.io"],
    "check_text": ["A Flask app.", "Jane O'Brien", "Ünïcode — ok", "100% <tested> #1", " x "],
    "check_name": ["Flask App", 'Café "Ünïcode" Shop', "it's $5 `x` \\ ok", "A"],
}
# Each check's message is pinned by a fragment of its text.
BAD = {
    "check_slug": {
        "single dashes": [
            "",
            "My App",
            "-lead",
            "trail-",
            "a--b",
            "UPPER",
            "my_app",
            "a/b",
            "café",
            "my-app\n",
        ],
        "at most 63 characters": ["x" * 64],
    },
    "check_port": {
        "from 1 to 65535": [
            "",
            "0",
            "65536",
            "99999",
            "-1",
            "80a",
            "1e3",
            " 80",
            "0x50",
            "+80",
            "\u00b2",
            "\u0661\u0663\u0663\u0667",
        ],
    },
    "check_container_name": {
        "start with a letter or digit": [
            "",
            "-web",
            ".web",
            "_web",
            "w",
            "web app",
            "web/a",
            "wéb",
            "web\n",
        ],
    },
    "check_image_name": {
        "lowercase [registry/]path/name": [
            "",
            "My-App",
            "app:latest",
            "app@sha256:0",
            "/app",
            "app/",
            "acme//app",
            "-app",
            "app-",
            "a___b",
            "x" * 241,
            "app\n",
            "example.-com/app",
        ],
    },
    "check_email": {
        "you@example.com": [
            "",
            "you",
            "you@",
            "@example.com",
            "you@example",
            "you@example.c",
            "you@@example.com",
            "you @example.com",
            "you@exa_mple.com",
            "you@example.com\n",
        ],
    },
    "check_text": {
        "must not be empty": ["", "   ", "\t"],
        "one line without double quotes": [
            'say "hi"',
            "back\\slash",
            "costs $5",
            "`cmd`",
            "two\nlines",
            "tab\there",
            "bell\x07",
            "del\x7f",
        ],
    },
    "check_name": {
        "must not be empty": ["", "   ", "\t", "\n"],
        "must be one line": ["two\nlines", "tab\there", "cr\r", "nul\x00", "esc\x1b[0m", "x\n"],
        "must contain a letter or digit": ["!!!", "- -", '"'],
    },
}


@pytest.mark.parametrize(
    "check, value",
    [
        pytest.param(getattr(pre, check), value, id=f"{check}={show(value)}")
        for check, values in GOOD.items()
        for value in values
    ],
)
def test_good_value_passes(check, value):
    assert check(value) is None


@pytest.mark.parametrize("check, value, rule", cases(BAD))
def test_bad_value_is_refused(check, value, rule):
    assert rule in check(value)


def test_every_check_has_test_cases():
    checks = {name for name in vars(pre) if name.startswith("check_")}
    assert checks == set(GOOD) == set(BAD)


def test_every_check_is_of_a_prompt():
    assert set(pre.CHECKS) <= set(CONTEXT)


GOOD_ANSWERS = {
    "project_name": "Flask App",
    "project_slug": "flask-app",
    "description": "A Flask app.",
    "author_name": "Your Name",
    "author_email": "you@example.com",
    "host_port": "1337",
    "container_name": "flask-app",
    "image_name": "flask-app",
    "https": "none",
    "deployment": "single",
    "database": "none",
    "worker": "none",
}
ONE_BAD = {
    "project_name": "two\nlines",
    "project_slug": "My App",
    "description": 'say "hi"',
    "author_name": "",
    "author_email": "you",
    "host_port": "99999",
    "container_name": "-web",
    "image_name": "App",
}


def test_good_answers_have_no_errors():
    assert pre.errors({**GOOD_ANSWERS, "host_port": 1337, "base_image": "ubuntu:24.04"}) == []


@pytest.mark.parametrize(
    "key, value", ONE_BAD.items(), ids=[f"{k}={show(v)}" for k, v in ONE_BAD.items()]
)
def test_errors_name_the_bad_answer(key, value):
    [message] = pre.errors({**GOOD_ANSWERS, key: value})
    assert message.startswith(f"{key} {value!r}: ")
    assert message.endswith(pre.CHECKS[key](value))


def test_errors_come_in_prompt_order():
    found = pre.errors({**GOOD_ANSWERS, **ONE_BAD})
    assert [message.split(" ", 1)[0] for message in found] == list(pre.CHECKS)


@pytest.mark.parametrize("deployment", ["single", "split"])
@pytest.mark.parametrize("database", ["none", "sqlite", "postgres"])
def test_postgres_needs_the_split_deployment(deployment, database):
    found = pre.errors({**GOOD_ANSWERS, "deployment": deployment, "database": database})
    refused = deployment == "single" and database == "postgres"
    assert [line.split(":")[0] for line in found] == (["database 'postgres'"] if refused else [])


@pytest.mark.parametrize("deployment", ["single", "split"])
def test_a_worker_needs_the_split_deployment(deployment):
    found = pre.errors({**GOOD_ANSWERS, "deployment": deployment, "worker": "celery"})
    refused = deployment == "single"
    assert [line.split(":")[0] for line in found] == (["worker 'celery'"] if refused else [])


# --- post_gen_project --------------------------------------------------------

# A path the hook checks for, and the file that makes it exist.
FILES = {
    ".github": ".github/workflows/ci.yml",
    "deploy": "deploy/k8s/kustomization.yaml",
    "migrations": "migrations/env.py",
}
OPTIONAL_PATHS = sorted(post.OPTIONAL)


def answers(deployment="single", ci="github", https="none", database="none", worker="none"):
    return {
        "deployment": deployment,
        "ci": ci,
        "https": https,
        "database": database,
        "worker": worker,
        "base_image": "debian:trixie-slim",
    }


def write(root, path, text="ok\n"):
    target = root / FILES.get(path, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


@pytest.fixture
def tree(tmp_path):
    """A well-baked single + github project of placeholder files."""
    for path in post.expected(answers()):
        write(tmp_path, path)
    return tmp_path


@pytest.mark.parametrize("combination", combinations(), ids=combination_id)
def test_each_optional_file_is_kept_only_for_its_answers(combination):
    """Every optional path is either kept or dropped, and kept only for its answers."""
    dropped, kept = post.unwanted(combination), post.expected(combination)
    assert not set(dropped) & set(kept)
    assert sorted(set(dropped) | set(kept) - set(post.COMMON)) == OPTIONAL_PATHS
    for path, conditions in post.OPTIONAL.items():
        wanted = all(combination[prompt] in keep for prompt, keep in conditions.items())
        assert (path in kept) == wanted, path


def test_every_option_is_dropped_by_some_answer():
    for path, conditions in post.OPTIONAL.items():
        for prompt, keep_for in conditions.items():
            assert set(keep_for) < set(CONTEXT[prompt]), path


def test_clean_tree_has_no_problems(tree):
    assert post.problems(tree, answers()) == []


def test_missing_file_is_reported(tree):
    (tree / "docker" / "nginx" / "nginx.conf.template").unlink()
    (tree / "app" / "__init__.py").unlink()
    assert post.problems(tree, answers()) == [
        "missing app/__init__.py",
        "missing docker/nginx/nginx.conf.template",
    ]


@pytest.mark.parametrize("leftover", ["{{ x }}", "{% if x %}", "{# note #}", "a{{b}}"])
def test_unrendered_jinja_is_reported(tree, leftover):
    write(tree, "README.md", f"# Title\n{leftover}\n")
    assert post.problems(tree, answers()) == ["unrendered template syntax in README.md"]


def test_flask_templates_are_jinja_on_purpose(tree):
    """The app's own templates are Jinja for Flask; the same text elsewhere is reported."""
    page = "<title>{% block title %}{% endblock %}</title>\n<p>{{ url_for('index') }}</p>\n"
    write(tree, "app/templates/index.html", page)
    write(tree, "app/static/page.html", page)
    assert post.problems(tree, answers()) == ["unrendered template syntax in app/static/page.html"]


def test_github_expressions_are_not_reported(tree):
    write(tree, ".github", "on: push\nconcurrency: ci-${{ github.ref }}\n")
    assert post.problems(tree, answers()) == []


@pytest.mark.parametrize("leftover", ["compose.yaml", ".gitlab-ci.yml"])
def test_leftover_option_is_reported(tree, leftover):
    write(tree, leftover)
    assert post.problems(tree, answers()) == [f"leftover option {leftover}"]


def test_remove_deletes_every_unwanted_path(tree):
    for path in OPTIONAL_PATHS:
        write(tree, path)
    chosen = answers("split", "none")
    post.remove(tree, post.unwanted(chosen))
    assert not [path for path in post.unwanted(chosen) if (tree / path).exists()]
    assert post.problems(tree, chosen) == []
    post.remove(tree, post.unwanted(chosen))  # already gone: no error


def test_make_executable_sets_x_on_scripts_only(tree):
    for path in tree.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
    post.make_executable(tree)
    for script in ["scripts/smoke-test.sh", "docker/nginx/entrypoint.d/20-render-config.sh"]:
        assert stat.S_IMODE((tree / script).stat().st_mode) == 0o755
    assert stat.S_IMODE((tree / "wsgi.py").stat().st_mode) == 0o644
