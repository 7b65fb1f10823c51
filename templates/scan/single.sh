scan {{ cookiecutter.image_name }}
