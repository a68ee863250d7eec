"""`tfx-kfp image build|tag` and the image tag's source digest; no Docker needed (fast tier)."""

import re
import shutil
from pathlib import Path

import pytest

from tfx_kfp import __version__, cli
from tfx_kfp.cli.commands import image
from tfx_kfp.components import image as runtime_image

REPO = Path(__file__).resolve().parents[2]
DIGEST = runtime_image.compute_source_digest(REPO)


def test_tag_prints_the_version_and_source_digest(capsys, monkeypatch):
    monkeypatch.delenv("TFX_KFP_IMAGE_REPOSITORY", raising=False)
    assert re.fullmatch(r"[0-9a-f]{12}", DIGEST)
    assert cli.main(["image", "tag"]) == 0
    assert capsys.readouterr().out.strip() == f"ghcr.io/tfx-kfp/tfx-kfp:{__version__}-{DIGEST}"
    assert cli.main(["image", "tag", "--variant", "gpu"]) == 0
    assert capsys.readouterr().out.strip() == f"ghcr.io/tfx-kfp/tfx-kfp:{__version__}-{DIGEST}-gpu"
    assert cli.main(["image", "tag", "--digest-only"]) == 0
    assert capsys.readouterr().out.strip() == DIGEST


def copy_build_inputs(destination: Path) -> Path:
    destination.mkdir()
    for name in runtime_image.BUILD_INPUTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, destination / name)
    return destination


def test_source_digest_changes_with_any_build_input_and_nothing_else(tmp_path):
    """Issue 8 item 7: rebuilt code under the same package version must get a new tag."""
    tree = copy_build_inputs(tmp_path / "tree")
    assert runtime_image.compute_source_digest(tree) == DIGEST, "a copy of the build inputs has the same digest"
    (tree / "docs").mkdir()
    (tree / "docs" / "notes.md").write_text("not in the image\n")
    (tree / "components" / "__pycache__").mkdir(exist_ok=True)
    (tree / "components" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert runtime_image.compute_source_digest(tree) == DIGEST
    trainer = tree / "components" / "trainer" / "component.py"
    trainer.write_text(trainer.read_text() + "\n# one changed line\n")
    changed = runtime_image.compute_source_digest(tree)
    assert changed != DIGEST
    (tree / "uv.lock").write_text((tree / "uv.lock").read_text() + "\n")
    assert runtime_image.compute_source_digest(tree) not in (DIGEST, changed)


def test_editing_the_presets_module_or_data_keeps_the_tag(tmp_path):
    """They reach tasks as parameter values only; a new tag would make every cached task miss."""
    from tfx_kfp.pipelines import penguin

    assert {Path(penguin.MODULE_FILE).resolve().relative_to(REPO).as_posix(),
            Path(penguin.DATA_DIR).resolve().relative_to(REPO).as_posix()} == set(runtime_image.PARAMETER_ONLY)
    tree = copy_build_inputs(tmp_path / "tree")
    module = tree / "pipelines/penguin/penguin_module.py"
    module.write_text(module.read_text() + "\n# tuned\n")
    (tree / "pipelines/penguin/data/penguins_processed.csv").write_text("species\n0\n")
    assert runtime_image.compute_source_digest(tree) == DIGEST


def test_build_inputs_are_what_dockerignore_admits_and_the_dockerfile_copies():
    admitted = {line[1:].rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.startswith("!")}
    copied = set()
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            for source in line.split()[1:-1]:  # a stack's lock: its folder's top (STACKS lock_dir)
                copied.update(Path(source.replace("${STACK_LOCK}", stack.lock_dir)).parts[0]
                              for stack in runtime_image.STACKS.values())
    inputs = set(runtime_image.BUILD_INPUTS) - {"Dockerfile"}
    assert inputs == admitted == copied


def test_the_image_records_its_digest_and_answers_to_it(monkeypatch, tmp_path):
    """Inside the image there is no source tree: the digest the build passed in names the image."""
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "ARG SOURCE_DIGEST=" in dockerfile and "TFX_KFP_IMAGE_SOURCE_DIGEST=${SOURCE_DIGEST}" in dockerfile
    monkeypatch.setattr(runtime_image, "SOURCE_ROOT", tmp_path)  # an installed package: no Dockerfile beside it
    monkeypatch.setenv(runtime_image.SOURCE_DIGEST_ENV, "0123456789ab")
    assert runtime_image.image_tag().endswith(f":{__version__}-0123456789ab")
    monkeypatch.delenv(runtime_image.SOURCE_DIGEST_ENV)
    assert runtime_image.image_tag().endswith(f":{__version__}")


def test_base_image_is_pinned_by_digest():
    """Issue 14 item 11: the base image is not ours; its tag moves, its digest does not."""
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", image.pinned_base(REPO))


def test_dry_run_prints_the_docker_command(capsys, monkeypatch):
    monkeypatch.setenv("TFX_KFP_IMAGE_REPOSITORY", "localhost:5000/me/tfx-kfp")
    monkeypatch.chdir(REPO / "components")  # found by walking up
    assert cli.main(["image", "build", "--variant", "gpu", "--dry-run", "--build-arg", "UID=2000"]) == 0
    cmd = capsys.readouterr().out.split()
    assert cmd[:2] == ["docker", "build"]
    assert cmd[cmd.index("--tag") + 1] == f"localhost:5000/me/tfx-kfp:{__version__}-{DIGEST}-gpu"
    assert "VARIANT=gpu" in cmd and "UID=2000" in cmd and f"SOURCE_DIGEST={DIGEST}" in cmd
    assert f"org.opencontainers.image.version={__version__}" in cmd
    assert f"io.tfx-kfp.source-digest={DIGEST}" in cmd
    assert cmd[cmd.index("--network") + 1] == "host"
    assert cmd[-1] == str(REPO) and cmd[cmd.index("--file") + 1] == str(REPO / "Dockerfile")


def test_a_build_from_another_tree_is_tagged_by_that_trees_digest(capsys, tmp_path):
    tree = copy_build_inputs(tmp_path / "tree")
    (tree / "runtime" / "extra.py").write_text("X = 1\n")
    assert cli.main(["image", "build", "--context", str(tree), "--dry-run"]) == 0
    out, err = capsys.readouterr()
    tag = out.split()[out.split().index("--tag") + 1]
    assert tag.endswith(f"-{runtime_image.compute_source_digest(tree)}") and not tag.endswith(DIGEST)
    assert "differs from this installation's source" in err


def test_default_network_is_left_to_docker():
    cmd = image.build_command("docker", "t:1", "cpu", REPO, "default", [], "1", "abc")
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


def test_each_stack_has_its_own_tag_lock_and_base(capsys, monkeypatch):
    """Issue 21: the current stack (TFX 1.21, KFP 2.17, Debian 13) is a second image of the same source."""
    monkeypatch.delenv("TFX_KFP_IMAGE_REPOSITORY", raising=False)
    monkeypatch.delenv(runtime_image.STACK_ENV, raising=False)
    assert runtime_image.running_stack() == "1.16"  # this venv: kfp 2.13
    assert cli.main(["image", "tag", "--stack", "current"]) == 0
    assert capsys.readouterr().out.strip() == f"ghcr.io/tfx-kfp/tfx-kfp:{__version__}-{DIGEST}-tfx1.21"
    assert cli.main(["image", "build", "--stack", "current", "--dry-run"]) == 0
    cmd = capsys.readouterr().out.split()
    assert {"STACK=current", "STACK_LOCK=stacks/current", "PYTHON_IMAGE=python:3.13-slim-trixie"} <= set(cmd)
    assert cli.main(["image", "build", "--dry-run"]) == 0  # the default stays the 1.16 image
    cmd = capsys.readouterr().out.split()
    assert "STACK=1.16" in cmd and "STACK_LOCK=." in cmd and not any(a.startswith("PYTHON_IMAGE=") for a in cmd)
    for stack in runtime_image.STACKS.values():
        assert (REPO / stack.lock_dir / "uv.lock").is_file() and (REPO / stack.lock_dir / "pyproject.toml").is_file()
    monkeypatch.setenv(runtime_image.STACK_ENV, "current")  # inside the current image
    assert runtime_image.image_tag().endswith("-tfx1.21")
    with pytest.raises(ValueError, match="image stack must be one of"):
        runtime_image.image_tag(stack="2.0")


def test_the_current_lock_holds_the_current_stack():
    import tomllib

    lock = tomllib.loads((REPO / "stacks/current/uv.lock").read_text())
    versions = {}
    for package in lock["package"]:
        versions.setdefault(package["name"], set()).add(package["version"])
    assert versions["tfx"] == {"1.21.0"} and versions["tensorflow"] == {"2.21.0"}
    assert versions["kfp"] == versions["kfp-kubernetes"] == {"2.17.3"}
    assert {v.split(".")[0] for v in versions["protobuf"]} == {"6"}
    assert "tensorboard" in versions and "tensorflow-io" not in versions
    assert "1.26.4" in versions["numpy"]  # Python 3.11/3.12; 3.13 has no numpy 1.x wheels (stacks/current)
