{% include "test-examples/database.py" if cookiecutter.database != "none" else "test-examples/none.py" %}
