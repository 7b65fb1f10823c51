"""The template's own CI: its GitHub workflow and .ci/run."""

import re

import yaml
from baked_ci import PINNED_ACTION
from helpers import REPO, actionlint, run, summary_lines, tool

WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


def test_template_workflow_matches_the_schema():
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", WORKFLOW)


def test_template_workflow_passes_actionlint():
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_faults(tmp_path):
    """What the lint above would say of a typo, a removed runtime and a run
    step shellcheck rejects: it can fail."""
    workflow = tmp_path / "ci.yml"
    workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v3\n"
        "      - run: echo ${{ github.evnt }}\n"
        "      - run: cd $undefined_dir\n"
    )
    output = actionlint(workflow).stdout
    assert "[action]" in output and "[expression]" in output and "SC2086" in output


def summary(builds):
    """The lines the terminal summary writes for these Docker builds."""
    return summary_lines(set(), builds)


def test_template_workflow_runs_the_readme_test_command_on_a_matrix(tmp_path):
    config = yaml.safe_load(WORKFLOW.read_text())
    assert config["permissions"] == {"contents": "read"}
    assert config["defaults"]["run"]["shell"] == "bash"  # -eo pipefail: tee keeps the status
    assert set(config["jobs"]) == {"test"}
    job = config["jobs"]["test"]
    assert job["runs-on"].startswith("ubuntu-") and 0 < job["timeout-minutes"] <= 90
    assert len(job["strategy"]["matrix"]["python"]) >= 2
    for step in job["steps"]:
        if "uses" in step:
            assert re.fullmatch(PINNED_ACTION, step["uses"]), step
        if "run" in step:
            assert "${{" not in step["run"], step
    runs = [step["run"].strip() for step in job["steps"] if "run" in step]
    script = tmp_path / "commands"
    script.write_text("\n".join(runs) + "\n")
    run(tool("shellcheck"), "--shell", "bash", script)
    test_step = next(step for step in runs if step.startswith("scripts/test.sh"))
    assert test_step.split("|")[0].strip() == "scripts/test.sh"
    # A registry answers there: the next step fails the job when a variant was skipped,
    # reading the summary line that conftest writes.
    check = runs[runs.index(test_step) + 1]
    pattern = re.search(r"grep -E '(.+)' ", check).group(1)
    all_built = summary({"debian:trixie-slim/single": None, "ubuntu:24.04/split": None})
    one_skipped = summary({"debian:trixie-slim/single": None, "ubuntu:24.04/split": "no registry"})
    assert [line for line in all_built if re.search(pattern, line)] == [all_built[-1]]
    assert not [line for line in one_skipped if re.search(pattern, line)]


def test_template_workflow_registers_qemu_before_the_tests():
    """The whole suite's arm64 test needs QEMU registered for arm64, which
    tests/infra/ensure-qemu.sh does only as root (the runner is not): the
    action does it before the test step."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["test"]["steps"]
    qemu = next(i for i, step in enumerate(steps) if "setup-qemu-action" in step.get("uses", ""))
    assert steps[qemu]["with"] == {"platforms": "arm64"}
    runs = [i for i, step in enumerate(steps) if step.get("run", "").startswith("scripts/test.sh")]
    assert runs and runs[0] > qemu


def test_local_ci_runs_the_same_command():
    """.ci/run ends in the very command README.md gives for the whole suite."""
    lines = (REPO / ".ci" / "run").read_text().splitlines()
    code = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    readme = (REPO / "README.md").read_text()
    [given] = re.findall(r"^(\S.*?)\s+# the whole test suite", readme, re.MULTILINE)
    assert code[-1].split(maxsplit=1)[-1] == given == "scripts/test.sh"
