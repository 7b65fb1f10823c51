#!/bin/sh
# The folder where each uWSGI worker keeps its numbers for /metrics
# (app/metrics.py), empty at each start: a container's counts start at 0,
# also where /tmp outlives a restart of the container (a Kubernetes emptyDir).
set -eu
rm -rf "$PROMETHEUS_MULTIPROC_DIR"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
