base_url=${1:-http://localhost:${HOST_PORT:-{{ cookiecutter.host_port }}}}
