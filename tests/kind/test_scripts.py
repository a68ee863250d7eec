"""scripts/kind and the e2e-kind workflow: syntax, pins and the order of steps."""

import re
import shutil
import subprocess

import pytest
import yaml

from tests._support.cluster_files import REPO, versions

SCRIPTS = REPO / "scripts" / "kind"
WORKFLOW = REPO / ".github" / "workflows" / "e2e-kind.yml"
E2E_ORDER = ["install-tools", "up", "install-kfp", "load-image", "deploy", "run-pipeline", "query"]
SHELL_SCRIPTS = sorted(SCRIPTS.glob("*.sh"))


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: p.name)
def test_script_parses_and_uses_common_setup(script):
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    if script.name == "common.sh":
        assert "set -euo pipefail" in text
    else:
        assert text.startswith("#!/usr/bin/env bash\n"), script.name
        assert 'source "$(dirname "$0")/common.sh"' in text, script.name
        assert script.stat().st_mode & 0o111, f"{script.name} is not executable"


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (apt-get install shellcheck)")
def test_shellcheck():
    subprocess.run(["shellcheck", "-x", "-P", str(SCRIPTS), *map(str, SHELL_SCRIPTS)], check=True, cwd=REPO)


def test_versions_are_pinned():
    v = versions()
    assert v["KIND_VERSION"].startswith("v0.") and v["KFP_VERSION"].count(".") == 2
    assert "latest" not in " ".join(v.values())
    assert re.fullmatch(r"[0-9a-f]{64}", v["KIND_SHA256"]) and re.fullmatch(r"[0-9a-f]{64}", v["KUBECTL_SHA256"])
    install = (SCRIPTS / "install-kfp.sh").read_text()
    assert '"$KFP_MANIFESTS/cluster-scoped-resources?ref=$KFP_VERSION"' in install
    assert '"$KFP_MANIFESTS/env/$KFP_ENV?ref=$KFP_VERSION"' in install


def test_e2e_script_runs_every_step_in_order():
    text = (SCRIPTS / "e2e.sh").read_text()
    assert f"for step in {' '.join(E2E_ORDER)}; do" in text
    for step in E2E_ORDER:
        assert (SCRIPTS / f"{step}.sh").is_file()


def test_workflow_builds_tests_and_runs_the_same_steps_then_tears_down():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    assert job["timeout-minutes"] <= 180
    steps = job["steps"]
    runs = [s.get("run", "") for s in steps]
    text = WORKFLOW.read_text()
    for step in steps:
        if "uses" in step:  # actions are not ours: pinned by commit, the release named beside it
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), f"pin {step['uses']} to a commit"
            assert re.search(re.escape(step["uses"]) + r"  # v\d+$", text, re.M), step["uses"]
    ordered = [next(i for i, r in enumerate(runs) if f"scripts/kind/{name}.sh" in r) for name in E2E_ORDER]
    assert ordered == sorted(ordered), "workflow steps must follow scripts/kind/e2e.sh order"
    build = next(i for i, r in enumerate(runs) if "tfx-kfp image build" in r)
    docker_test = next(i for i, r in enumerate(runs) if "pytest tests/docker" in r)
    assert build < docker_test < ordered[0]
    teardown = steps[-1]
    assert teardown["if"] == "always()" and "scripts/kind/down.sh" in teardown["run"]
    # `on:` parses as True in YAML 1.1.
    triggers = workflow.get("on", workflow.get(True))
    assert "workflow_dispatch" in triggers and "pull_request" in triggers
