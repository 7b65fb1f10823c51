#!/bin/sh
# Scan the built image(s) with Trivy, run as a container (nothing to install):
# a critical vulnerability that has a fix fails the scan. The SBOM of each
# image (CycloneDX) is written to sbom/, which CI keeps. CI runs this after
# make up; make scan runs it by hand.
set -eu
cd "$(dirname "$0")/.."

trivy() {
    docker run --rm --volume /var/run/docker.sock:/var/run/docker.sock \
        --volume trivy-cache:/root/.cache aquasec/trivy:0.58.1 --quiet image "$@"
}

scan() {
    trivy --format cyclonedx "$1" >"sbom/$(basename "$1").cdx.json"
    trivy --severity CRITICAL --ignore-unfixed --exit-code 1 "$1"
}

mkdir -p sbom
{% include "scan/" ~ cookiecutter.deployment ~ ".sh" %}
