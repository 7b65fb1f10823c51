#!/usr/bin/env bash
# Make sure a Docker engine answers. Uses the one that is running (a laptop's
# Docker Desktop, a CI service); otherwise, as root on Debian, installs
# docker.io and starts dockerd in the background with its own log file.
set -euo pipefail

log=${DOCKERD_LOG:-/var/log/flask-docker-dockerd.log}

if docker info >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "No Docker engine answers and this is not root on Debian: start Docker and retry." >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
packages=()
command -v dockerd >/dev/null || packages+=(docker.io)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || packages+=(docker-compose)
if [ ${#packages[@]} -gt 0 ] || ! docker buildx version >/dev/null 2>&1; then
    apt-get update -qq
    # BuildKit: Debian 12's docker 20.10 has it built in; Debian 13 packages it
    # as the buildx plugin, without which its client only has the legacy builder.
    if ! docker buildx version >/dev/null 2>&1 && apt-cache show docker-buildx >/dev/null 2>&1; then
        packages+=(docker-buildx)
    fi
fi
if [ ${#packages[@]} -gt 0 ]; then
    echo "Installing ${packages[*]} ..." >&2
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

echo "Starting dockerd (log: $log) ..." >&2
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && exit 0
    sleep 1
done
echo "dockerd did not answer within 60 s; last lines of $log:" >&2
tail -n 20 "$log" >&2
exit 1
