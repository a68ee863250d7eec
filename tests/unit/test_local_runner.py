"""Local runs: the in-process runner executes kfp.local's real task commands in this process."""

import os

import pytest
from kfp import dsl

from tfx_kfp.local import run_pipeline
from tfx_kfp.local.inprocess import _parse_command


@dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
def record_pid(out: dsl.Output[dsl.Artifact]) -> int:
    import os

    with open(out.path, "w") as f:
        f.write(str(os.getpid()))
    out.metadata["pid"] = os.getpid()
    return os.getpid()


@dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
def fail(message: str):
    raise ValueError(message)


@dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
def after(pid: int) -> int:
    return pid


@dsl.pipeline(name="toy")
def toy_pipeline():
    first = record_pid()
    after(pid=first.outputs["Output"])


@dsl.pipeline(name="toy-failing")
def failing_pipeline():
    broken = fail(message="bad input: field 'x'")
    after(pid=1).after(broken)


def test_in_process_runner_runs_every_task_in_this_process(tmp_path):
    result = run_pipeline(toy_pipeline, {}, runner="inprocess", pipeline_root=str(tmp_path))
    assert os.path.basename(result.run_dir).startswith("toy-")
    assert result.metadata("record-pid", "out")["pid"] == os.getpid()
    assert (tmp_path / os.path.basename(result.run_dir) / "record-pid" / "out").read_text() == str(os.getpid())


def test_subprocess_runner_runs_tasks_elsewhere(tmp_path):
    result = run_pipeline(toy_pipeline, {}, runner="subprocess", pipeline_root=str(tmp_path))
    assert result.metadata("record-pid", "out")["pid"] != os.getpid()


def test_a_failing_task_stops_the_pipeline_with_its_error(tmp_path, capsys):
    with pytest.raises(RuntimeError, match="fail"):
        run_pipeline(failing_pipeline, {}, runner="inprocess", pipeline_root=str(tmp_path))
    assert "ValueError: bad input: field 'x'" in capsys.readouterr().out
    assert not list(tmp_path.glob("*/after"))


def test_unknown_runner(tmp_path):
    with pytest.raises(ValueError, match="runner must be one of"):
        run_pipeline(toy_pipeline, {}, runner="k8s", pipeline_root=str(tmp_path))


def test_only_lightweight_component_commands_run_in_process():
    with pytest.raises(ValueError, match="not a lightweight Python component"):
        _parse_command(["python3", "-m", "something"])
