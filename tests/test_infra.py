"""The repository's own shell scripts, outside the template: the maintainer's
tools (scripts/, benchmarks/run.sh) and the stand-ins' machinery
(tests/infra/) pass shellcheck, following what they source."""

from helpers import REPO, run, tool

SCRIPTS = sorted(
    path.relative_to(REPO)
    for folder in ("scripts", "tests/infra", "benchmarks")
    for path in (REPO / folder).rglob("*.sh")
)


def test_repository_scripts_pass_shellcheck():
    assert {"scripts/test.sh", "tests/infra/stand-in.sh", "benchmarks/run.sh"} <= {
        path.as_posix() for path in SCRIPTS
    }
    # From the root, where the scripts' `shellcheck source=` paths start.
    run(tool("shellcheck"), "--external-sources", *SCRIPTS, cwd=REPO)
