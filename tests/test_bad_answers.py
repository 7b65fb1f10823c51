"""Bad answers stop the bake with one line naming the prompt, and leave nothing behind."""

import re
import tomllib
from pathlib import Path

import pytest
from helpers import run, tool


def show(value):
    """A readable test id: plain values as they are, odd ones as repr."""
    return value if value and value.isprintable() and value == value.strip() else repr(value)


BAD = {
    "project_slug": ["My App", "-lead", "trail-", "a--b", "UPPER", "my_app", "x" * 64, "my-app\n"],
    "host_port": [
        "0",
        "65536",
        "99999",
        "-1",
        "80a",
        " 80",
        "",
        "\u0661\u0663\u0663\u0667",
        "\u00b2",
    ],
    "container_name": ["", "-web", ".web", "w", "web app", "web/a", "wéb", "web\n"],
    "image_name": ["", "My-App", "app:latest", "/app", "acme//app", "app-", "app\n"],
    "author_email": [
        "",
        "you",
        "you@example",
        "@example.com",
        "you@@example.com",
        "you @x.com",
        "you@x.com\n",
    ],
    "description": ["", "   ", 'say "hi"', "back\\slash", "costs $5", "`cmd`", "two\nlines"],
    "author_name": ["", 'Jane "JD" Doe', "Jane\\Doe", "$USER", "`whoami`", "Jane\tDoe"],
    "project_name": [
        "",
        "   ",
        "\t",
        "!!!",
        "Flask\nApp",
        "Flask\tApp",
        "Flask App\r",
        "Flask\x00App",
        "Flask\x1bApp",
    ],
}
# Limits of cookiecutter itself, before any hook runs (strict: a fix upstream shows up here).
LIMITS = {
    "an empty slug makes an empty folder name: cookiecutter fails before the hook": {
        "project_slug": [""],
    },
    "cookiecutter makes nested folders for 'a/b' and removes only 'b'": {"project_slug": ["a/b"]},
}


def cases(table, marks=()):
    return [
        pytest.param(key, value, id=f"{key}={show(value)}", marks=marks)
        for key, values in table.items()
        for value in values
    ]


@pytest.mark.parametrize(
    "key, value",
    [
        *cases(BAD),
        *(
            case
            for reason, table in LIMITS.items()
            for case in cases(table, pytest.mark.xfail(strict=True, reason=reason))
        ),
    ],
)
def test_bad_answer_stops_the_bake(cookies, capfd, key, value):
    assert_refused(cookies, capfd, {key: value}, key)


def test_postgres_in_one_container_stops_the_bake(cookies, capfd):
    """Compose runs PostgreSQL beside the app; the one container takes SQLite."""
    assert_refused(cookies, capfd, {"deployment": "single", "database": "postgres"}, "database")


def assert_refused(cookies, capfd, answers, key):
    """The bake fails with one ERROR line naming key, and leaves no files."""
    # pytest-cookies bakes into output_dir/bakeNN, output_dir.mkdir being the factory.
    output = Path(cookies._output_factory.__self__)
    result = cookies.bake(extra_context=answers)

    exit_code, exception = result.exit_code, result.exception  # no Result repr: it warns
    assert exit_code != 0
    assert exception is not None
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1, errors
    # Only the key: Jinja has already turned a "\r" in the answer into "\n".
    assert errors[0].startswith(f"ERROR: {key} ")
    bake = output / f"bake{cookies._counter - 1:02d}"
    assert [p.relative_to(output) for p in output.rglob("*")] == [bake.relative_to(output)]


def test_a_project_name_of_any_characters_bakes(cookies):
    name = 'Café "Ünïcode" Shop'
    result = cookies.bake(extra_context={"project_name": name})

    assert result.exit_code == 0, result.exception
    project = result.project_path
    assert project.name == result.context["project_slug"] == "cafe-unicode-shop"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == "cafe-unicode-shop"
    assert (project / "README.md").read_text(encoding="utf-8").startswith(f"# {name}\n")
    namespace = {}
    app = (project / "app" / "__init__.py").read_text(encoding="utf-8")
    exec(re.search(r"^NAME = .*$", app, re.M)[0], namespace)
    assert namespace["NAME"] == name
    run(tool("hadolint"), "Dockerfile", cwd=project)


@pytest.mark.parametrize(
    "name, slug, container",
    [("P", "p", "p-app"), ("Word " * 20, ("word-" * 20)[:63], ("word-" * 20)[:63])],
    ids=["one-letter", "long"],
)
def test_names_nobody_typed_are_valid(cookies, name, slug, container):
    """The slug, container and image names derived from the project name bake."""
    result = cookies.bake(extra_context={"project_name": name})
    assert result.exit_code == 0, result.exception
    assert (result.context["project_slug"], result.context["container_name"]) == (slug, container)
    assert len(slug) <= 63
