"""`tfx-kfp image build|tag` argument handling; no Docker needed (fast tier)."""

from pathlib import Path

import pytest

from tfx_kfp import __version__, cli
from tfx_kfp.cli.commands import image

REPO = Path(__file__).resolve().parents[2]


def test_tag_prints_the_versioned_reference(capsys, monkeypatch):
    monkeypatch.delenv("TFX_KFP_IMAGE_REPOSITORY", raising=False)
    assert cli.main(["image", "tag"]) == 0
    assert capsys.readouterr().out.strip() == f"ghcr.io/tfx-kfp/tfx-kfp:{__version__}"
    assert cli.main(["image", "tag", "--variant", "gpu"]) == 0
    assert capsys.readouterr().out.strip() == f"ghcr.io/tfx-kfp/tfx-kfp:{__version__}-gpu"


def test_dry_run_prints_the_docker_command(capsys, monkeypatch):
    monkeypatch.setenv("TFX_KFP_IMAGE_REPOSITORY", "localhost:5000/me/tfx-kfp")
    monkeypatch.chdir(REPO / "components")  # found by walking up
    assert cli.main(["image", "build", "--variant", "gpu", "--dry-run", "--build-arg", "UID=2000"]) == 0
    cmd = capsys.readouterr().out.split()
    assert cmd[:2] == ["docker", "build"]
    assert cmd[cmd.index("--tag") + 1] == f"localhost:5000/me/tfx-kfp:{__version__}-gpu"
    assert "VARIANT=gpu" in cmd and "UID=2000" in cmd
    assert f"org.opencontainers.image.version={__version__}" in cmd
    assert cmd[cmd.index("--network") + 1] == "host"
    assert cmd[-1] == str(REPO) and cmd[cmd.index("--file") + 1] == str(REPO / "Dockerfile")


def test_default_network_is_left_to_docker():
    cmd = image.build_command("docker", "t:1", "cpu", REPO, "default", [], "1")
    assert "--network" not in cmd


def test_errors_say_what_was_expected(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["image", "build"]) == 2
    assert "expected a Dockerfile in the tfx-kfp source tree; none found at or above" in capsys.readouterr().err
    assert cli.main(["image", "build", "--context", str(REPO), "--build-arg", "NOEQUALS"]) == 2
    assert "--build-arg expects KEY=VALUE, got 'NOEQUALS'" in capsys.readouterr().err
    assert cli.main(["image", "build", "--context", str(REPO), "--docker", str(tmp_path / "no-docker")]) == 2
    assert "expected a docker executable" in capsys.readouterr().err
    assert cli.main(["image"]) == 2
    assert "expected an action, 'build' or 'tag'" in capsys.readouterr().err


@pytest.mark.parametrize("line, shown", [("Step 3/30 : RUN x", True), ("#5 [builder 2/9] RUN x", True),
                                         (" ---> Using cache", False), ("Collecting numpy", False)])
def test_progress_shows_steps_only(line, shown):
    assert bool(image._STEP.match(line)) is shown
