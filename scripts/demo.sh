#!/usr/bin/env bash
# Bake the default project, build its image and serve it; prints the URL.
# Installs what it needs: cookiecutter in a virtualenv, and (as root on
# Debian) a Docker engine and the Debian base image when none is at hand.
#   DEMO_DIR  where to bake (default /tmp/flask-docker-demo)
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VENV:-.venv}
demo_dir=${DEMO_DIR:-/tmp/flask-docker-demo}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check cookiecutter==2.7.1

scripts/ensure-docker.sh
base=$("$venv/bin/python" -c 'import json; print(json.load(open("cookiecutter.json"))["base_image"][0])')
case "$base" in
    debian:*-slim) suite=${base#debian:} && tests/infra/make-debian-base-image.sh "${suite%-slim}" ;;
esac

project=$("$venv/bin/python" -c '
import sys
from cookiecutter.main import cookiecutter
print(cookiecutter(".", no_input=True, output_dir=sys.argv[1], overwrite_if_exists=True))
' "$demo_dir")
echo "Baked $project"
"$project/install.sh"
