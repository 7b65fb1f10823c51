#!/bin/sh
# The folder where each uWSGI worker keeps its numbers for /metrics
# (app/metrics.py), empty at each start: a container's counts start at 0,
# also where /tmp outlives a restart of the container (a Kubernetes emptyDir).
# Set empty, each worker's /metrics shows its own numbers only.
set -eu
[ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ] || exit 0
rm -rf "$PROMETHEUS_MULTIPROC_DIR"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
