"""A baked project becomes the user's own: a page of their own replaces the
demo, one step deletes the examples, an existing app moves in with its
tests, and `make check` (the project's lints and tests) stays green; the
app's contract tests catch code the Content-Security-Policy would refuse."""

import shutil

import pytest
from deployments import Variant, deployment, remove_images
from engine import base_image_problem, docker, http_get, stand_in
from helpers import DEFAULT_BASE, RUN_PREFIX, bake, run, skip_or_fail, tool
from test_bake import make

# A home page of the user's own, in place of the demo's.
OWN_PAGE = """{% extends "base.html" %}

{% block content %}
    <h1>Our shop</h1>
    <p>Everything for the garden.</p>
{% endblock %}
"""

# A small existing app: a blueprint with an endpoint named as the example's
# (hello), and its test, which uses the project's shared fixtures.
SHOP = '''"""The shop, brought from its own repository."""

from flask import Blueprint

shop = Blueprint("shop", __name__, url_prefix="/shop")


@shop.get("/hello")
def hello():
    return {"message": "Hello from the shop"}
'''
SHOP_TEST = """from flask import url_for


def test_hello(app, client):
    with app.test_request_context():
        assert url_for("shop.hello") == "/shop/hello"
    response = client.get("/shop/hello")
    assert response.get_json() == {"message": "Hello from the shop"}
"""


def made_yours(project):
    """The project with a home page of its own and without the examples."""
    (project / "app" / "templates" / "index.html").write_text(OWN_PAGE)
    make(project, "remove-examples")
    return project


def files_with(project, text):
    return sorted(
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and text in path.read_text(errors="replace")
    )


@pytest.mark.parametrize("database", ["none", "sqlite"])
def test_made_yours_keeps_make_check_green(cookies_session, tmp_path, database):
    baked = bake(cookies_session, database=database, ci="none")
    project = made_yours(shutil.copytree(baked, tmp_path / "project"))
    # What said EXAMPLE at its top is gone, and no code names it any more.
    for folder in ["app", "tests", "migrations"]:
        assert files_with(project / folder, "EXAMPLE") == []
        assert files_with(project / folder, "examples") == []
    assert files_with(baked / "app", "EXAMPLE")
    result = make(project, "check")
    assert "tests/test_app.py" in result.stdout


# Code in a page that the CSP refuses, wherever it is: a template no route
# renders yet, or a page of a route the user added.
INLINE = {
    "event handler in a template": (
        "app/templates/about.html",
        '{% extends "base.html" %}\n{% block content %}<button onclick="buy()">Buy</button>'
        "{% endblock %}\n",
    ),
    "style attribute in a page": (
        "app/templates/index.html",
        OWN_PAGE.replace("<h1>", '<h1 style="color: red">'),
    ),
    "inline script": (
        "app/templates/index.html",
        OWN_PAGE.replace("<h1>", "<script>go()</script><h1>"),
    ),
}


@pytest.mark.parametrize("fault", INLINE)
def test_make_check_fails_on_inline_code(cookies_session, tmp_path, fault):
    project = made_yours(shutil.copytree(bake(cookies_session, ci="none"), tmp_path / "project"))
    path, text = INLINE[fault]
    (project / path).write_text(text)
    result = make(project, "test", check=False)
    assert result.returncode != 0
    assert "test_every_template_keeps_to_the_csp" in result.stdout


def bring_the_shop(project):
    (project / "app" / "shop.py").write_text(SHOP)
    (project / "tests" / "test_shop.py").write_text(SHOP_TEST)
    init = project / "app" / "__init__.py"
    text = init.read_text()
    text = text.replace("from app import", "from app.shop import shop\nfrom app import", 1)
    text = text.replace(
        "    app.register_blueprint(routes.bp)\n",
        "    app.register_blueprint(routes.bp)\n    app.register_blueprint(shop)\n",
    )
    init.write_text(text)


@pytest.mark.parametrize("examples", ["kept", "removed"])
def test_an_existing_app_moves_in(cookies_session, tmp_path, examples):
    """Its blueprint registered in create_app, its test beside the project's:
    the shared tests/conftest.py gives it an app and a client (with a database
    of its own), its hello does not collide with the example's."""
    project = shutil.copytree(bake(cookies_session, database="sqlite", ci="none"), tmp_path / "p")
    if examples == "removed":
        made_yours(project)
    bring_the_shop(project)
    run(tool("ruff"), "check", "--fix", "--quiet", "app", cwd=project)  # the imports in order
    result = make(project, "check")
    assert "tests/test_shop.py ." in result.stdout


@pytest.mark.docker
def test_without_the_examples_the_image_serves(request, engine, cookies_session, tmp_path):
    """Built and run as install.sh runs it, with a database (its migrations
    folder now empty): the user's page through nginx and uWSGI, no examples."""
    base_image = DEFAULT_BASE
    problem = base_image_problem(base_image)
    if problem:
        (skip_or_fail if stand_in(base_image) else pytest.skip)(f"{base_image}: {problem}")
    name = f"{RUN_PREFIX}-yours"
    baked = bake(cookies_session, project_name=name, base_image=base_image, database="sqlite",
                 ci="none")  # fmt: skip
    project = made_yours(shutil.copytree(baked, tmp_path / name))
    request.addfinalizer(lambda: remove_images([name]))
    docker("build", "--tag", name, project)
    variant = Variant(base_image, "single", project, name, 0, [name])
    with deployment(variant, f"{name}-run") as running:
        status, _, body = http_get(f"{running.url}/")
        assert status == 200 and b"<h1>Our shop</h1>" in body
        assert b"What answered this page" not in body
        assert http_get(f"{running.url}/api/hello")[0] == 404
