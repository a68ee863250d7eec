"""``tfx-kfp run --local --pipeline-file``: a YAML compiled by hand with the KFP SDK runs as it is, its
``--param`` typed and checked by its declarations the way ``submit`` types and checks them."""

import json
import os

import pytest
from kfp import compiler, dsl

from tfx_kfp.cli import main

IMAGE = "python:3.11-slim"


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def write(path: str, times: int, tags: list):
    with open(path, "w") as f:
        f.write(f"{times} {','.join(tags)}")


@dsl.pipeline(name="by-hand")
def by_hand(path: str, times: int = 2, tags: list = ["a"]):
    write(path=path, times=times, tags=tags)


@pytest.fixture
def pipeline_file(tmp_path):
    path = tmp_path / "by-hand.yaml"
    compiler.Compiler().compile(by_hand, str(path))  # the KFP SDK's own compiler, no tfx-kfp in between
    return str(path)


def run(pipeline_file, tmp_path, *params):
    args = ["run", "--local", "--pipeline-file", pipeline_file, "--pipeline-root", str(tmp_path / "runs")]
    for param in params:
        args += ["--param", param]
    return main(args)


def test_the_yaml_runs_with_typed_arguments_and_its_defaults(pipeline_file, tmp_path, capsys):
    out = tmp_path / "out.txt"
    assert run(pipeline_file, tmp_path, f"path={out}", "tags=[\"x\", \"y\"]") == 0
    assert out.read_text() == "2 x,y"
    (run_dir,) = [d for d in os.listdir(tmp_path / "runs") if d.startswith("by-hand-")]
    with open(tmp_path / "runs" / run_dir / "pipeline.yaml") as f, open(pipeline_file) as g:
        assert f.read() == g.read()  # the exact YAML ran
    with open(tmp_path / "runs" / run_dir / "run.json") as f:
        assert json.load(f)["tasks"]["write"]["state"] == "done"
    assert "by-hand (inprocess)" in capsys.readouterr().out


@pytest.mark.parametrize("param, code, message", [
    ("times=many", 2, "--param times: expected an integer (NUMBER_INTEGER); received 'many'"),
    ("nope=1", 2, "--param: the pipeline has no parameter 'nope'; expected one of path, tags, times"),
    ("tags=x", 2, "--param tags: expected a JSON array (LIST); received 'x'"),
])
def test_bad_params_get_the_same_error_as_submit(pipeline_file, tmp_path, capsys, param, code, message):
    assert run(pipeline_file, tmp_path, f"path={tmp_path / 'o'}", param) == code
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_a_missing_required_parameter_is_named(pipeline_file, tmp_path, capsys):
    assert run(pipeline_file, tmp_path) == 2
    assert "by-hand pipeline: missing required parameters: path; pass --param KEY=VALUE" in capsys.readouterr().err


def test_a_file_that_is_not_a_compiled_pipeline_is_named(tmp_path, capsys):
    assert run(str(tmp_path / "none.yaml"), tmp_path) == 2
    assert "--pipeline-file: expected a compiled pipeline YAML at " in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Deployment\n")
    assert run(str(bad), tmp_path) == 2
    assert f"--pipeline-file: expected a KFP PipelineSpec (pipelineInfo, root, ...) in {bad}" in capsys.readouterr().err


def test_the_subprocess_runner_runs_the_file_too(pipeline_file, tmp_path):
    out = tmp_path / "out.txt"
    assert main(["run", "--local", "--runner", "subprocess", "--pipeline-file", pipeline_file,
                 "--pipeline-root", str(tmp_path / "runs"), "--param", f"path={out}", "--param", "times=3"]) == 0
    assert out.read_text() == "3 a"
