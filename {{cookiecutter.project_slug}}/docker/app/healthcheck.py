{% include "healthcheck/" ~ cookiecutter.deployment ~ ".py" %}
