"""Local runs execute the compiled spec with the KFP backend's semantics (toy pipelines, no TensorFlow)."""

import json
import os
from typing import Optional

import pytest
from kfp import dsl

from tfx_kfp import local
from tfx_kfp.local import events

IMAGE = "python:3.11-slim"


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def decide(value: bool) -> bool:
    return value


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def touch(path: str):
    with open(path, "a") as f:
        f.write("ran\n")


@dsl.pipeline(name="gated")
def gated_pipeline(value: bool, marker: str):
    decision = decide(value=value)
    with dsl.If(decision.output == True, name="only-if-true"):  # noqa: E712
        touch(path=marker)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def produce(out: dsl.Output[dsl.Artifact]):
    with open(out.path, "w") as f:
        f.write("x")
    out.metadata.update({"signatures": {"serving_default": {"inputs": 4}}, "labels": [1, 2], "ok": True,
                         "split_names": '["train"]'})


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def consume(data: dsl.Input[dsl.Artifact]) -> str:
    import json

    return json.dumps({"name": data.name, "metadata": data.metadata})


@dsl.pipeline(name="metadata")
def metadata_pipeline():
    consume(data=produce().outputs["out"])


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def nan_metric(metrics: dsl.Output[dsl.Metrics]):
    metrics.log_metric("loss", float("nan"))


@dsl.pipeline(name="nan")
def nan_pipeline():
    nan_metric()


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def exits():
    import sys

    sys.exit(0)


@dsl.pipeline(name="exits")
def exiting_pipeline():
    exits()


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def count(path: str, out: dsl.Output[dsl.Artifact]):
    with open(path, "a") as f:
        f.write("ran\n")
    with open(out.path, "w") as f:
        f.write("data")


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def count_downstream(path: str, data: dsl.Input[dsl.Artifact], metrics: dsl.Output[dsl.Metrics]):
    metrics.log_metric("lines", 1.0)  # an output without files must not defeat the cache
    with open(path, "a") as f:
        f.write("downstream\n")


@dsl.pipeline(name="counting")
def counting_pipeline(log: str):
    counted = count(path=log)
    count_downstream(path=log, data=counted.outputs["out"])


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def optional_input_annotated(data: Optional[dsl.Input[dsl.Artifact]] = None) -> bool:
    return data is not None


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def optional_input_defaulted(data: dsl.Input[dsl.Artifact] = None) -> bool:
    return data is not None


@dsl.pipeline(name="optional-annotated")
def optional_annotated_pipeline():
    optional_input_annotated(data=produce().outputs["out"])


@dsl.pipeline(name="optional-defaulted")
def optional_defaulted_pipeline():
    optional_input_defaulted(data=produce().outputs["out"])


def _run(pipeline, tmp_path, arguments=None, **options):
    seen = []
    options.setdefault("pipeline_root", str(tmp_path / "runs"))
    try:
        return local.run_pipeline(pipeline, arguments, observer=seen.append, **options), seen
    finally:
        _run.events = seen


def test_false_condition_skips_the_gated_task_and_the_run_succeeds(tmp_path):
    marker = tmp_path / "marker"
    run, seen = _run(gated_pipeline, tmp_path, {"value": False, "marker": str(marker)})
    assert run.state("decide") == events.DONE and run.state("touch") == events.SKIPPED
    assert not marker.exists()
    assert [(e.task, e.state) for e in seen if e.task == "touch"] == [("touch", "waiting"), ("touch", "skipped")]
    with open(os.path.join(run.run_dir, local.RUN_RECORD)) as f:
        assert json.load(f)["tasks"]["touch"]["state"] == "skipped"


def test_true_condition_runs_the_gated_task(tmp_path):
    marker = tmp_path / "marker"
    run, _ = _run(gated_pipeline, tmp_path, {"value": True, "marker": str(marker)})
    assert run.state("touch") == events.DONE and marker.read_text() == "ran\n"


def test_consumers_receive_metadata_as_the_backend_stores_it(tmp_path):
    run, _ = _run(metadata_pipeline, tmp_path)
    received = json.loads(run.tasks["consume"].parameters["Output"])
    assert received["metadata"]["signatures"] == {"struct": {"serving_default": {"inputs": 4}}}
    assert received["metadata"]["labels"] == {"list": [1, 2]}
    assert received["metadata"]["ok"] == 1 and received["metadata"]["split_names"] == '["train"]'
    assert received["metadata"]["display_name"] == "out"
    assert received["name"] == run.tasks["produce"].artifacts["out"].id != "out"


def test_a_nan_metric_fails_the_task_as_the_launcher_would(tmp_path):
    with pytest.raises(local.TaskFailed, match="nan-metric.*launcher would reject.*NaN"):
        _run(nan_pipeline, tmp_path)
    assert [e.state for e in _run.events if e.task == "nan-metric"][-1] == events.FAILED


def test_sys_exit_in_a_task_is_a_failed_task(tmp_path):
    with pytest.raises(local.TaskFailed, match=r"sys.exit\(0\)"):
        _run(exiting_pipeline, tmp_path)


def test_unchanged_tasks_reuse_their_outputs_and_no_cache_runs_them(tmp_path):
    log = tmp_path / "log"
    first, _ = _run(counting_pipeline, tmp_path, {"log": str(log)})
    second, seen = _run(counting_pipeline, tmp_path, {"log": str(log)})
    assert log.read_text().splitlines() == ["ran", "downstream"]
    assert second.state("count") == second.state("count-downstream") == events.CACHED
    assert second.tasks["count"].artifacts["out"].uri == first.tasks["count"].artifacts["out"].uri
    assert [e.state for e in seen if e.task == "count"] == ["waiting", "cached"]
    _run(counting_pipeline, tmp_path, {"log": str(log)}, cache=False)
    assert log.read_text().splitlines() == ["ran", "downstream"] * 2


def test_a_changed_parameter_misses_the_cache_and_so_does_everything_downstream(tmp_path):
    _run(counting_pipeline, tmp_path, {"log": str(tmp_path / "a")})
    run, _ = _run(counting_pipeline, tmp_path, {"log": str(tmp_path / "b")})
    assert run.state("count") == run.state("count-downstream") == events.DONE


def test_the_run_keeps_the_exact_spec_it_executed(tmp_path):
    compiled = local.compile_for_local(counting_pipeline)
    run = local.run_compiled(compiled, {"log": str(tmp_path / "log")}, pipeline_root=str(tmp_path / "runs"))
    with open(os.path.join(run.run_dir, local.SPEC_FILE)) as f:
        assert f.read() == compiled.text


def test_subprocess_runner_runs_the_same_tasks(tmp_path):
    marker = tmp_path / "marker"
    run, _ = _run(gated_pipeline, tmp_path, {"value": True, "marker": str(marker)}, runner="subprocess")
    assert run.state("touch") == events.DONE and marker.read_text() == "ran\n"


def test_unknown_missing_and_mistyped_arguments_are_named_as_submit_names_them(tmp_path):
    from tfx_kfp.pipelines.argument_checks import MissingParameters, UnknownParameter
    from tfx_kfp.runtime.errors import InputError

    with pytest.raises(UnknownParameter, match=r"the pipeline has no parameter 'nope'; expected one of log"):
        _run(counting_pipeline, tmp_path, {"log": "x", "nope": 1})
    with pytest.raises(MissingParameters, match=r"missing required parameters: log"):
        _run(counting_pipeline, tmp_path, {})
    with pytest.raises(InputError, match=r"field 'log': expected a string \(STRING\) \(received: 3\)"):
        _run(counting_pipeline, tmp_path, {"log": 3})


def test_optional_artifact_inputs_must_not_be_annotated_optional(tmp_path):
    """KFP 2.13's executor makes an input whose type the backend sends as an instance schema from the raw
    annotation: ``Optional[Input[...]]`` fails (so our components write ``Input[...] = None``). When this
    test fails, upstream has fixed it."""
    with pytest.raises(local.TaskFailed, match="Cannot instantiate typing.Union"):
        _run(optional_annotated_pipeline, tmp_path)
    run, _ = _run(optional_defaulted_pipeline, tmp_path)
    assert run.tasks["optional-input-defaulted"].parameters["Output"] is True
