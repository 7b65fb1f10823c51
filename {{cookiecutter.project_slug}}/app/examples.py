{% include "app-examples/database.py" if cookiecutter.database != "none" else "app-examples/none.py" %}
