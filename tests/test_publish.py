"""The publish step: which images and tags it pushes. The baked CI files'
publish commands and scripts/publish.sh run with `docker` replaced by a
recorder."""

import pytest
from baked_ci import ci_env, commands, shell
from helpers import run

SHA = "0123456789abcdef0123456789abcdef01234567"
REGISTRY = "localhost:5000"  # never contacted: docker is a recorder here


FAKE_DOCKER = """#!/bin/sh
# Records each call; `docker login --password-stdin` also records its stdin.
# `buildx inspect --bootstrap` lists the platforms FAKE_PLATFORMS names (by
# default an amd64 machine's); `buildx inspect NAME` finds the builders made.
echo "$*" >>"$DOCKER_CALLS"
case "$*" in
    *--password-stdin*) echo "password: $(cat)" >>"$DOCKER_CALLS" ;;
    "buildx inspect --bootstrap"*)
        printf 'Name:      x\\nDriver:    docker\\n\\nNodes:\\nPlatforms: %s\\nLabels:\\n' \\
            "${FAKE_PLATFORMS:-linux/amd64, linux/amd64/v2, linux/386}" ;;
    "buildx inspect "*) grep -q "^buildx create --name $3 " "$DOCKER_CALLS" ;;
esac
"""


@pytest.fixture
def fake_docker(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    calls = tmp_path / "docker-calls"
    calls.touch()
    return bin_dir, calls


def platform_env(platform, ref, platforms="linux/amd64"):
    """What GitHub Actions or GitLab CI would set for a push of `ref`."""
    if platform == "github":
        return {
            "REGISTRY": REGISTRY,  # from vars.REGISTRY
            "PLATFORMS": platforms,  # from vars.PLATFORMS, else linux/amd64
            "REGISTRY_USER": "octocat",
            "REGISTRY_PASSWORD": "s3cret",
            "GITHUB_REPOSITORY": "Acme/Shop",
            "GITHUB_REF_NAME": ref,
            "GITHUB_SHA": SHA,
        }
    return {
        "CI_REGISTRY": REGISTRY,
        "CI_REGISTRY_IMAGE": f"{REGISTRY}/acme/shop",
        "CI_REGISTRY_USER": "gitlab-ci-token",
        "CI_REGISTRY_PASSWORD": "s3cret",
        "CI_COMMIT_REF_NAME": ref,
        "CI_COMMIT_SHA": SHA,
        "PLATFORMS": platforms,  # the job's variable, or the project's
    }


def login_calls(env):
    """The docker calls of the publish job's login, with the password it reads."""
    user = env.get("REGISTRY_USER") or env["CI_REGISTRY_USER"]
    return [f"login --username {user} --password-stdin {REGISTRY}", "password: s3cret"]


def build_calls(repository, deployment, tags, *options):
    """publish.sh's build of each image: one `docker buildx build` with
    `options` (builder, platforms), the target, the label and every tag, pushed."""
    images = (
        [(repository, [])]
        if deployment == "single"
        else [(f"{repository}-{target}", ["--target", target]) for target in ("app", "proxy")]
    )
    label = f"--label org.opencontainers.image.revision={SHA}"
    return [
        " ".join(["buildx build", *options, *target, label])
        + "".join(f" --tag {image}:{tag}" for tag in tags)
        + " --push ."
        for image, target in images
    ]


MAIN_TAGS = ["sha-0123456789ab", "latest"]  # what a push to main is tagged

# The builder publish.sh makes for several platforms, then asks what it builds.
MAKE_BUILDER = [
    "buildx inspect publish",
    "buildx create --name publish --driver docker-container",
    "buildx inspect --bootstrap --builder publish",
]


@pytest.mark.parametrize(
    ("ref", "tags"),
    [
        ("main", ["sha-0123456789ab", "latest"]),
        ("v1.2.3", ["sha-0123456789ab", "1.2.3"]),
        ("feature-x", ["sha-0123456789ab"]),
    ],
)
def test_publish_steps_push_the_tested_tags(ci_project, fake_docker, ref, tags):
    platform, deployment, project, config = ci_project
    bin_dir, calls = fake_docker
    env = ci_env(bin_dir, DOCKER_CALLS=str(calls), **platform_env(platform, ref))
    for command in commands(platform, config, "publish"):
        run(*shell(platform), command, cwd=project, env=env)

    # linux/amd64 only: the default builder, asked first whether it builds it.
    builds = build_calls(f"{REGISTRY}/acme/shop", deployment, tags, "--platform", "linux/amd64")
    expected = [*login_calls(env), "buildx inspect --bootstrap", *builds]
    assert calls.read_text().splitlines() == expected


def test_publish_steps_build_every_listed_platform_into_one_image(ci_project, fake_docker):
    platform, deployment, project, config = ci_project
    bin_dir, calls = fake_docker
    both = "linux/amd64,linux/arm64"
    env = ci_env(
        bin_dir,
        DOCKER_CALLS=str(calls),
        FAKE_PLATFORMS="linux/amd64, linux/amd64/v2, linux/arm64, linux/386",
        **platform_env(platform, "main", both),
    )
    for command in commands(platform, config, "publish"):
        run(*shell(platform), command, cwd=project, env=env)

    # GitLab registers QEMU in the job's script; GitHub in a step of its own.
    qemu = ["run --rm --privileged tonistiigi/binfmt --install all"] if platform == "gitlab" else []
    options = ["--builder", "publish", "--platform", both]
    builds = build_calls(f"{REGISTRY}/acme/shop", deployment, MAIN_TAGS, *options)
    assert calls.read_text().splitlines() == [*qemu, *login_calls(env), *MAKE_BUILDER, *builds]


def publish_by_hand(project, fake_docker, *args, **env):
    """scripts/publish.sh --image acme/shop ARGS, `docker` the recorder:
    (the result, the docker calls)."""
    bin_dir, calls = fake_docker
    env = ci_env(bin_dir, DOCKER_CALLS=str(calls), **env)
    result = run(
        project / "scripts/publish.sh", "--image", "acme/shop", *args, env=env, check=False
    )
    return result, calls.read_text().splitlines()


MAIN = ["--ref", "main", "--sha", SHA]


@pytest.mark.parametrize(
    ("platforms", "listed", "built"),
    [
        ("", "linux/amd64, linux/amd64/v2, linux/386", "linux/amd64"),  # empty or unset
        ("linux/arm", "linux/arm64, linux/arm/v7, linux/arm/v6", "linux/arm"),  # arm is arm/v7
    ],
)
def test_publish_builds_one_platform_with_the_default_builder(
    github_single, fake_docker, platforms, listed, built
):
    env = {"PLATFORMS": platforms, "FAKE_PLATFORMS": listed}
    result, calls = publish_by_hand(github_single, fake_docker, *MAIN, **env)
    assert result.returncode == 0, result.stderr
    builds = build_calls("acme/shop", "single", MAIN_TAGS, "--platform", built)
    assert calls == ["buildx inspect --bootstrap", *builds]


def test_publish_makes_its_builder_once(github_single, fake_docker):
    env = {"PLATFORMS": "linux/amd64,linux/arm64", "FAKE_PLATFORMS": "linux/amd64, linux/arm64"}
    for _ in range(2):
        result, calls = publish_by_hand(github_single, fake_docker, *MAIN, **env)
        assert result.returncode == 0, result.stderr
    options = ["--builder", "publish", "--platform", env["PLATFORMS"]]
    builds = build_calls("acme/shop", "single", MAIN_TAGS, *options)
    again = ["buildx inspect publish", "buildx inspect --bootstrap --builder publish"]
    assert calls == [*MAKE_BUILDER, *builds, *again, *builds]


@pytest.mark.parametrize(
    ("platforms", "asked"),
    [
        ("linux/amd64,linux/arm64", MAKE_BUILDER),
        ("linux/arm64", ["buildx inspect --bootstrap"]),
    ],
)
def test_publish_refuses_a_platform_the_builder_cannot_build(
    github_single, fake_docker, platforms, asked
):
    """An amd64 machine without QEMU: nothing is built, rather than an image
    without arm64."""
    result, calls = publish_by_hand(github_single, fake_docker, *MAIN, PLATFORMS=platforms)
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert line.startswith(f"publish.sh: PLATFORMS '{platforms}': the builder cannot build ")
    assert "build linux/arm64; register QEMU" in line
    assert "tonistiigi/binfmt --install linux/arm64" in line
    assert calls == asked


@pytest.mark.parametrize(
    ("platforms", "entry"),
    [
        ("linux/AMD64", "linux/AMD64"),
        ("arm64", "arm64"),
        ("linux/amd64,", ""),
        ("linux/amd64, linux/arm64", " linux/arm64"),
        ("linux/arm/v7/x", "linux/arm/v7/x"),
    ],
)
def test_publish_refuses_a_malformed_platform_before_anything(
    github_single, fake_docker, platforms, entry
):
    result, calls = publish_by_hand(github_single, fake_docker, *MAIN, PLATFORMS=platforms)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"publish.sh: PLATFORMS '{platforms}': '{entry}' is not a platform"
        " (os/arch[/variant], lowercase, e.g. linux/arm64)"
    ]
    assert calls == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ref", "main", "--sha", "abc"], "--sha 'abc': use the commit's hash"),
        (["--ref", "v1.2+build", "--sha", SHA], "'1.2+build' is not a valid image tag"),
        (["--ref", "main"], "scripts/publish.sh --image IMAGE --ref REF --sha SHA"),
    ],
)
def test_publish_refuses_bad_arguments_before_building(github_single, fake_docker, args, message):
    result, calls = publish_by_hand(github_single, fake_docker, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert calls == []
