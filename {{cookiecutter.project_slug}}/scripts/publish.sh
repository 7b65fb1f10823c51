{% include "publish/" ~ cookiecutter.deployment ~ "-usage.sh" %}
# REF    the branch or tag built: main is also tagged latest, vX.Y.Z is X.Y.Z
# SHA    the commit built: always tagged sha- and its first 12 hex digits
#
# PLATFORMS (environment) lists the platforms to build, comma-separated:
# linux/amd64 by default, e.g. linux/amd64,linux/arm64 (docs/publishing.md).
set -euo pipefail

die() {
    echo "publish.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '2,12s/^# \{0,1\}//p' "$0"
}

# One build for every platform and tag; --push pushes each tag, as one
# multi-platform image when there are several platforms.
publish() {
    local repository=$1 tag
    shift
    local names=()
    for tag in "${tags[@]}"; do
        names+=(--tag "$repository:$tag")
    done
    docker buildx build ${builder:+--builder "$builder"} --platform "$platforms" "$@" \
        --label "org.opencontainers.image.revision=$sha" "${names[@]}" --push .
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

platforms=${PLATFORMS:-linux/amd64}
# The comma added keeps an empty last entry ("linux/amd64,"), refused below.
IFS=, read -ra wanted <<<"$platforms,"
for platform in "${wanted[@]}"; do
    [[ $platform =~ ^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$ ]] ||
        die "PLATFORMS '$platforms': '$platform' is not a platform (os/arch[/variant], lowercase, e.g. linux/arm64)"
done

# The default builder (driver docker) builds one platform only: several need
# a builder in a container, made once and kept.
builder=""
if [[ $platforms == *,* ]]; then
    builder=publish
    docker buildx inspect "$builder" >/dev/null 2>&1 ||
        docker buildx create --name "$builder" --driver docker-container >/dev/null
fi
# A platform the builder cannot build must stop it here, never be left out of
# the image. Its "Platforms:" line(s) as ",linux/amd64,linux/amd64/v2,...,";
# linux/arm stands for the linux/arm/v7 listed.
supported=,$(docker buildx inspect --bootstrap ${builder:+--builder "$builder"} |
    sed -n 's/^Platforms://p' | tr -d ' *' | tr '\n' ,)
for platform in "${wanted[@]}"; do
    case $supported in
        *",$platform,"* | *",$platform/"*) ;;
        *) die "PLATFORMS '$platforms': the builder cannot build $platform; register QEMU for it (docker run --privileged --rm tonistiigi/binfmt --install $platform) or build on a native $platform machine" ;;
    esac
done

cd "$(dirname "$0")/.."
{% include "publish/" ~ cookiecutter.deployment ~ "-push.sh" %}
