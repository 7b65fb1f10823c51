#!/usr/bin/env bash
# Build and push the images (Dockerfile targets app and proxy), tagged for one commit.
# CI runs this after logging in (docker login); it works the same by hand.
#
#   scripts/publish.sh --image IMAGE --ref REF --sha SHA
#
# IMAGE  where to push, [registry/]path/name: as IMAGE-app and IMAGE-proxy
