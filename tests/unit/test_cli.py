"""The CLI's fast paths: compile, the one parameter parser, and the errors and exit codes users see."""

import pytest
import yaml

from tfx_kfp.cli import main
from tfx_kfp.cli.errors import UsageError
from tfx_kfp.cli.params import kfp_types, parse_params
from tfx_kfp.pipelines import cluster
from tfx_kfp.pipelines.presets import PARAMETER_TYPES

DECLARED = kfp_types(PARAMETER_TYPES)


def test_compile_writes_valid_yaml(tmp_path, capsys):
    out = tmp_path / "pipeline.yaml"
    assert main(["compile", "-o", str(out)]) == 0
    spec, platform = yaml.safe_load_all(out.read_text())
    assert spec["pipelineInfo"]["name"] == "penguin"
    assert cluster.MODEL_STORE_PVC_NAME in str(platform)
    assert capsys.readouterr().out.strip().endswith(f"to {out}")


def test_compile_generic_pipeline_with_a_users_module(tmp_path):
    module = tmp_path / "my_module.py"
    module.write_text("def preprocessing_fn(inputs):\n    return inputs\n\ndef run_fn(fn_args):\n    pass\n")
    out = tmp_path / "p.yaml"
    assert main(["compile", "--pipeline", "training", "--target", "local", "--module-file", str(module),
                 "--param", "data_root=/d", "--param", "label_key=y", "--param", "serving_base_dir=/s",
                 "--param", "train_steps=7", "-o", str(out)]) == 0
    spec = next(yaml.safe_load_all(out.read_text()))
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    assert parameters["module_source"]["defaultValue"] == module.read_text()
    assert parameters["train_steps"]["defaultValue"] == 7


def test_separate_modules_replace_the_shared_module(tmp_path):
    transform, trainer = tmp_path / "t.py", tmp_path / "r.py"
    transform.write_text("def preprocessing_fn(inputs):\n    return inputs\n")
    trainer.write_text("def run_fn(fn_args):\n    pass\n")
    out = tmp_path / "p.yaml"
    assert main(["compile", "--target", "local", "--transform-module-file", str(transform),
                 "--trainer-module-file", str(trainer), "-o", str(out)]) == 0
    spec = next(yaml.safe_load_all(out.read_text()))
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    assert "module_source" not in parameters
    assert parameters["transform_module_source"]["defaultValue"] == transform.read_text()
    assert parameters["trainer_module_source"]["defaultValue"] == trainer.read_text()
    tasks = spec["root"]["dag"]["tasks"]
    assert tasks["transform"]["inputs"]["parameters"]["module_source"]["componentInputParameter"] == \
        "transform_module_source"
    assert tasks["trainer"]["inputs"]["parameters"]["module_source"]["componentInputParameter"] == \
        "trainer_module_source"


def test_kind_target_sends_the_module_by_reference(tmp_path):
    """Issue 19 items 2 and 8: the module file by SHA-256 (no $ to expand, small enough for MLMD)."""
    from tfx_kfp.pipelines import cluster
    from tfx_kfp.runtime import user_module

    module = tmp_path / "m.py"
    module.write_text('PRICE = "$$5"  # $(HOME)\ndef preprocessing_fn(inputs):\n    return inputs\n\n'
                      'def run_fn(fn_args):\n    pass\n')
    out = tmp_path / "p.yaml"
    assert main(["compile", "--target", "kind", "--module-file", str(module), "-o", str(out)]) == 0
    default = next(yaml.safe_load_all(out.read_text()))["root"]["inputDefinitions"]["parameters"][
        "module_source"]["defaultValue"]
    assert default == user_module.reference(module.read_text(), cluster.CLUSTER_MODULE_DIR)
    assert "$" not in default


def test_missing_parameters_exit_2_naming_them(tmp_path, capsys):
    assert main(["compile", "--pipeline", "training", "-o", str(tmp_path / "p.yaml")]) == 2
    err = capsys.readouterr().err
    assert "missing required parameters: data_root" in err and "module_source" in err


@pytest.mark.parametrize("item, message", [
    ("train_steps=ten", "--param train_steps: expected an integer (NUMBER_INTEGER); received 'ten'"),
    ("fail_on_anomalies=maybe", "--param fail_on_anomalies: expected true or false"),
    ("beam_pipeline_args=--x", "--param beam_pipeline_args: expected a JSON array"),
    ("nonsense=1", "the pipeline has no parameter 'nonsense'"),
    ("train_steps", "expected KEY=VALUE; received 'train_steps'"),
    ("module_source=@/no/such.py", "--param module_source=@FILE: expected a readable file; received '/no/such.py'"),
])
def test_bad_params_are_named(item, message):
    with pytest.raises(UsageError) as raised:
        parse_params([item], DECLARED)
    assert message in str(raised.value)


def test_params_are_typed_and_files_read(tmp_path):
    schema = tmp_path / "schema.pbtxt"
    schema.write_text('feature { name: "x" type: FLOAT }')
    params = parse_params(["train_steps=5", "accuracy_threshold=0.5", "fail_on_anomalies=false",
                           'beam_pipeline_args=["--runner=FlinkRunner"]', f"schema_pbtxt=@{schema}"], DECLARED)
    assert params == {"train_steps": 5, "accuracy_threshold": 0.5, "fail_on_anomalies": False,
                      "beam_pipeline_args": ["--runner=FlinkRunner"], "schema_pbtxt": schema.read_text()}


def test_usage_errors_exit_2(capsys):
    assert main(["compile", "--module-file", "/no/such.py"]) == 2
    assert "--module-file: expected a readable file; received '/no/such.py'" in capsys.readouterr().err


def test_run_requires_local(capsys):
    with pytest.raises(SystemExit):
        main(["run"])
    assert "--local" in capsys.readouterr().err


def test_arguments_invalid_on_their_face_stop_before_the_first_stage(tmp_path, capsys):
    code = main(["run", "--local", "--pipeline-root", str(tmp_path / "runs"), "--param", "train_steps=0"])
    assert code == 1
    assert "field 'train_steps': must be at least 1 (received: 0)" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
