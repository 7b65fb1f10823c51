#!/usr/bin/env bash
# Run the benchmark; installs what it needs first (a virtualenv with
# cookiecutter and matplotlib; as root on Debian: Docker, the Debian base
# image, wrk). Arguments go to benchmark.py (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r benchmarks/requirements.txt

scripts/ensure-docker.sh
if ! command -v wrk >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
base=debian:trixie-slim
for arg in "$@"; do
    case "$arg" in --base-image=*) base=${arg#*=} ;; esac
done
case "$base" in
    debian:*-slim) suite=${base#debian:} && tests/infra/make-debian-base-image.sh "${suite%-slim}" ;;
esac
# The broker of the background jobs' rows (redis:8): made here when no registry answers.
tests/infra/make-redis-image.sh 8

exec "$venv/bin/python" -m benchmarks.benchmark "$@"
