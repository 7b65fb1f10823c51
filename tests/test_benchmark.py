"""The benchmark's logic that needs no Docker: the copy of a Dockerfile it builds
cold gives each cache mount a name of its own and changes nothing else, and it
tells how a project locks its requirements, and it imports without pytest."""

import re
import sys

from helpers import REPO, run

from benchmarks.benchmark import lock_kind, name_cache_mounts

CACHE_MOUNT = r"--mount=type=cache,\S+"


def test_a_cold_build_names_each_cache_mount_its_own_and_changes_nothing_else():
    dockerfile = (REPO / "examples" / "default" / "Dockerfile").read_text()
    named = name_cache_mounts(dockerfile, "flask-docker-bench-7-0-baked")
    mounts, renamed = re.findall(CACHE_MOUNT, dockerfile), re.findall(CACHE_MOUNT, named)
    assert mounts and len(renamed) == len(mounts)
    for before, after in zip(mounts, renamed, strict=True):
        # Its id, or its target where it names none, after the run's name.
        own = (re.search(r"id=([^,]+)", before) or re.search(r"target=([^,]+)", before))[1]
        kept = {option for option in before.split(",") if not option.startswith("id=")}
        assert set(after.split(",")) == kept | {f"id=flask-docker-bench-7-0-baked-{own}"}
    assert re.sub(CACHE_MOUNT, "", named) == re.sub(CACHE_MOUNT, "", dockerfile)
    # A mount that names its cache keeps that name after the run's.
    mount = "RUN --mount=type=cache,id=pip,target=/root/.cache/pip,sharing=locked pip"
    assert name_cache_mounts(mount, "t") == mount.replace("id=pip", "id=t-pip")


def test_the_lock_is_told_by_the_project_files(tmp_path):
    assert lock_kind(tmp_path) == "none"
    (tmp_path / "requirements.in").touch()
    assert lock_kind(tmp_path) == "make lock"


def test_the_benchmark_runs_without_pytest():
    """benchmarks/run.sh installs benchmarks/requirements.txt only: what the
    benchmark imports from tests/ must not need pytest."""
    code = "import sys; sys.modules['pytest'] = None; import benchmarks.benchmark"
    result = run(sys.executable, "-c", code, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
