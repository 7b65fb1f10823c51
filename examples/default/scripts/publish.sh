#!/usr/bin/env bash
# Build and push the image, tagged for one commit.
# CI runs this after logging in (docker login); it works the same by hand.
#
#   scripts/publish.sh --image IMAGE --ref REF --sha SHA
#
# IMAGE  where to push: [registry/]path/name
# REF    the branch or tag built: main is also tagged latest, vX.Y.Z is X.Y.Z
# SHA    the commit built: always tagged sha- and its first 12 hex digits
set -euo pipefail

die() {
    echo "publish.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '2,9s/^# \{0,1\}//p' "$0"
}

# Build once with every tag, then push each tag.
publish() {
    local repository=$1 tag
    shift
    local names=()
    for tag in "${tags[@]}"; do
        names+=(--tag "$repository:$tag")
    done
    docker build "$@" --label "org.opencontainers.image.revision=$sha" "${names[@]}" .
    for tag in "${tags[@]}"; do
        docker push "$repository:$tag"
    done
}

image="" ref="" sha=""
while [ $# -gt 0 ]; do
    case "$1" in
        --image) image=${2:?--image needs a value} && shift ;;
        --ref) ref=${2:?--ref needs a value} && shift ;;
        --sha) sha=${2:?--sha needs a value} && shift ;;
        -h | --help) usage && exit 0 ;;
        *) usage >&2 && exit 2 ;;
    esac
    shift
done
if [ -z "$image" ] || [ -z "$ref" ] || [ -z "$sha" ]; then
    usage >&2
    exit 2
fi
[[ $sha =~ ^[0-9a-f]{12,40}$ ]] || die "--sha '$sha': use the commit's hash (git rev-parse HEAD)"

tags=("sha-${sha:0:12}")
case "$ref" in
    main) tags+=(latest) ;;
    v[0-9]*) tags+=("${ref#v}") ;;
esac
for tag in "${tags[@]}"; do
    [[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] ||
        die "--ref '$ref': '$tag' is not a valid image tag (letters, digits, '_', '.', '-')"
done

cd "$(dirname "$0")/.."
publish "$image"
