"""``beam_runner=…`` parameters expand into ``beam_pipeline_args`` at compile and submit time
(pipelines/beam_runner.py), through the one parameter parser (cli/params.py)."""

import argparse

import pytest
import yaml

from tfx_kfp.components.image import RUNTIME_IMAGE
from tfx_kfp.pipelines import beam_runner, compile_pipeline
from tfx_kfp.pipelines.presets import build_pipeline
from tfx_kfp.runtime.errors import InputError

MODULE = "def preprocessing_fn(inputs):\n    return inputs\ndef run_fn(fn_args):\n    pass\n"
REQUIRED = ["data_root=/model-store/data/taxi", f"module_source={MODULE}", "label_key=tips",
            "serving_base_dir=/model-store/models/taxi"]
FLINK = ["--runner=PortableRunner", "--job_endpoint=beam-flink-job-server.kubeflow:8099",
         "--environment_type=EXTERNAL", "--environment_config=localhost:50000",
         f"--sdk_container_image={RUNTIME_IMAGE}"]


def _compiled_beam_args(tmp_path, *params: str) -> list:
    """``tfx-kfp compile --pipeline training --target kind --param …``, and the compiled default of
    beam_pipeline_args read back from the YAML."""
    from tfx_kfp.cli.commands import _pipeline_args

    parser = argparse.ArgumentParser()
    _pipeline_args.add_pipeline_options(parser)
    args = parser.parse_args(["--pipeline", "training"] + [f"--param={p}" for p in REQUIRED + list(params)])
    path = tmp_path / "pipeline.yaml"
    compile_pipeline(_pipeline_args.build_pipeline(args, target="kind"), str(path))
    spec = next(yaml.safe_load_all(path.read_text()))
    declared = spec["root"]["inputDefinitions"]["parameters"]
    assert not [name for name in declared if name in beam_runner.HELP]  # compile-time only
    return declared["beam_pipeline_args"]["defaultValue"]


def test_flink_compiles_into_the_portable_runner_args(tmp_path):
    assert _compiled_beam_args(tmp_path, "beam_runner=flink",
                               "beam_job_endpoint=beam-flink-job-server.kubeflow:8099") == FLINK


def test_spark_with_its_own_environment_and_extra_options(tmp_path):
    compiled = _compiled_beam_args(
        tmp_path, "beam_runner=spark", "beam_job_endpoint=spark-job-server:8099",
        "beam_environment_config=localhost:50001", "beam_sdk_container_image=registry.local/tfx-kfp:1",
        'beam_pipeline_args=["--parallelism=4"]')
    assert compiled == ["--runner=PortableRunner", "--job_endpoint=spark-job-server:8099",
                        "--environment_type=EXTERNAL", "--environment_config=localhost:50001",
                        "--sdk_container_image=registry.local/tfx-kfp:1", "--parallelism=4"]


def test_without_beam_runner_the_args_are_as_given(tmp_path):
    assert _compiled_beam_args(tmp_path) == []
    assert _compiled_beam_args(tmp_path, 'beam_pipeline_args=["--direct_running_mode=in_memory"]') == [
        "--direct_running_mode=in_memory"]


def test_dataflow_and_direct():
    assert beam_runner.runner_args({"beam_runner": "dataflow"}) == [
        "--runner=DataflowRunner", f"--sdk_container_image={RUNTIME_IMAGE}", "--experiments=use_runner_v2"]
    assert beam_runner.runner_args({"beam_runner": "direct"}) == ["--runner=DirectRunner"]


@pytest.mark.parametrize("params, field, rule", [
    ({"beam_runner": "flnk"}, "beam_runner", "expected one of direct, flink, spark, portable, dataflow"),
    ({"beam_runner": "flink"}, "beam_job_endpoint", "submits to a Beam job server"),
    ({"beam_job_endpoint": "x:8099"}, "beam_runner", "beam_job_endpoint given without beam_runner"),
    ({"beam_runner": "spark", "beam_job_endpoint": "x:1", "beam_environment_type": "pod"},
     "beam_environment_type", "expected one of EXTERNAL, DOCKER, PROCESS, LOOPBACK"),
    ({"beam_runner": "direct", "beam_job_endpoint": "x:1"}, "beam_runner", "do not apply"),
])
def test_a_wrong_combination_names_the_field(params, field, rule):
    with pytest.raises(InputError, match=rule) as raised:
        beam_runner.runner_args(params)
    assert raised.value.field == field


def test_submit_expands_them_against_the_compiled_parameters():
    from tfx_kfp.cli.params import declared_types, parse_params
    from tfx_kfp.pipelines.argument_checks import check_run_arguments

    declared = {"beam_pipeline_args": {"parameterType": "LIST", "defaultValue": []},
                "train_steps": {"parameterType": "NUMBER_INTEGER", "defaultValue": 100}}
    parsed = parse_params(["beam_runner=flink", "beam_job_endpoint=beam-flink-job-server.kubeflow:8099",
                           "train_steps=5"], declared_types(declared))
    params = check_run_arguments("p", declared, parsed)
    assert params == {"beam_pipeline_args": FLINK, "train_steps": 5}


def test_build_pipeline_takes_them_too():
    pipeline = build_pipeline("penguin", target="local", params={"beam_runner": "portable",
                                                                 "beam_job_endpoint": "localhost:8099"})
    default = pipeline.component_spec.inputs["beam_pipeline_args"].default
    assert default[:2] == ["--runner=PortableRunner", "--job_endpoint=localhost:8099"]
