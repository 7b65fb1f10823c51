#!/usr/bin/env bash
# Run the template's whole test suite; installs what it needs first.
#   scripts/test.sh                 everything (bakes, lints, Docker builds)
#   scripts/test.sh -m "not docker" the fast part, without Docker
# Arguments go to pytest, which runs one worker per core (pytest-xdist; the
# Docker tests all in one of them, in order, the arm64 test beside them in
# another); -n 0 runs everything in this process. The Docker tests start an
# engine themselves when none answers and this is root on Debian (see
# scripts/ensure-docker.sh); the arm64 test registers QEMU the same way
# (tests/infra/ensure-qemu.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt

# From Debian: nginx (nginx -t on every baked config), wrk (the load test),
# openssl (test certificates, and what install.sh checks them with),
# chromium (the baked site in a real browser, headless), rsync (which
# gitlab-ci-local copies with) and testssl.sh (the ACME site's TLS, checked).
missing=()
PATH="$PATH:/usr/sbin" command -v nginx >/dev/null || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v openssl >/dev/null || missing+=(openssl)
command -v chromium >/dev/null || missing+=(chromium)
command -v rsync >/dev/null || missing+=(rsync)
command -v testssl >/dev/null || missing+=(testssl.sh)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "Not installed: ${missing[*]} (e.g. apt-get install ${missing[*]}); their tests fail." >&2
    fi
fi

# Debian's Prometheus scrapes a running deployment's /metrics: only its
# program, unpacked from the package into the venv (installing the package
# would start a server on this machine).
if [ ! -x "$venv/bin/prometheus" ] && command -v apt-get >/dev/null; then
    deb=$(mktemp -d)
    if (cd "$deb" && { apt-get download -qq prometheus 2>/dev/null ||
        { [ "$(id -u)" -eq 0 ] && apt-get update -qq && apt-get download -qq prometheus 2>/dev/null; }; }); then
        dpkg-deb --fsys-tarfile "$deb"/prometheus_*.deb | tar -xO ./usr/bin/prometheus >"$venv/bin/prometheus.part" &&
            chmod +x "$venv/bin/prometheus.part" && mv "$venv/bin/prometheus.part" "$venv/bin/prometheus"
    else
        echo "Could not download Debian's prometheus package; its test fails." >&2
    fi
    rm -rf "$deb"
fi

# gitlab-ci-local runs a baked project's GitLab job here (npm; 4.72 is the
# last release for Node 20).
if [ ! -x "$venv/bin/gitlab-ci-local" ] && command -v npm >/dev/null; then
    npm install --silent --prefix "$venv/node" gitlab-ci-local@4.72.0 &&
        ln -sf ../node/node_modules/.bin/gitlab-ci-local "$venv/bin/gitlab-ci-local"
fi

exec "$venv/bin/python" -m pytest "$@"
