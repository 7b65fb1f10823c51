{% include "make-secrets/" ~ ("postgres" if cookiecutter.database == "postgres" else cookiecutter.deployment) ~ ".sh" %}
