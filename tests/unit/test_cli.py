"""The CLI's fast paths: compile, parameter parsing, and the errors users see."""

import pytest
import yaml

from tfx_kfp.cli import main
from tfx_kfp.cli.commands._pipeline_args import parse_params
from tfx_kfp.pipelines import cluster


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
    assert main(["compile", "--pipeline", "training", "--module-file", str(module), "--param", "data_root=/d",
                 "--param", "label_key=y", "--param", "serving_base_dir=/s", "--param", "train_steps=7",
                 "-o", str(out)]) == 0
    spec = next(yaml.safe_load_all(out.read_text()))
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    assert parameters["module_source"]["defaultValue"] == module.read_text()
    assert parameters["train_steps"]["defaultValue"] == 7


def test_generic_pipeline_names_missing_parameters(tmp_path):
    with pytest.raises(SystemExit, match="missing required parameters: data_root .*module_source \\(--module-file\\)"):
        main(["compile", "--pipeline", "training", "-o", str(tmp_path / "p.yaml")])


@pytest.mark.parametrize("item, message", [
    ("train_steps=ten", "--param train_steps: expected int, received 'ten'"),
    ("fail_on_anomalies=maybe", "--param fail_on_anomalies: expected bool"),
    ("beam_pipeline_args=--x", "--param beam_pipeline_args: expected list"),
    ("nonsense=1", "unknown parameter 'nonsense'"),
    ("train_steps", "expected KEY=VALUE, received 'train_steps'"),
])
def test_bad_params_are_named(item, message):
    with pytest.raises(SystemExit, match=message.replace("(", "\\(").replace(")", "\\)")):
        parse_params([item])


def test_params_are_typed(tmp_path):
    schema = tmp_path / "schema.pbtxt"
    schema.write_text('feature { name: "x" type: FLOAT }')
    params = parse_params(["train_steps=5", "accuracy_threshold=0.5", "fail_on_anomalies=false",
                           'beam_pipeline_args=["--runner=FlinkRunner"]'], schema_file=str(schema))
    assert params == {"train_steps": 5, "accuracy_threshold": 0.5, "fail_on_anomalies": False,
                      "beam_pipeline_args": ["--runner=FlinkRunner"], "schema_pbtxt": schema.read_text()}


def test_missing_module_file():
    with pytest.raises(SystemExit, match="--module-file: no such file: /no/such.py"):
        parse_params([], module_file="/no/such.py")


def test_run_requires_local(capsys):
    with pytest.raises(SystemExit):
        main(["run"])
    assert "--local" in capsys.readouterr().err
