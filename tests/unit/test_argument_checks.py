"""Pipeline arguments invalid on their face are refused before any stage runs (issue 14, item 10)."""

import inspect

import pytest

from tests._support.chain import module_source
from tfx_kfp.pipelines.argument_checks import CHECKS, check_arguments
from tfx_kfp.pipelines.presets import PARAMETER_TYPES
from tfx_kfp.pipelines.training import PARAMETERS
from tfx_kfp.runtime.errors import InputError

VALID = {"data_root": "/data", "module_source": module_source(), "label_key": "species",
         "serving_base_dir": "/models/penguin"}


def test_every_pipeline_parameter_has_a_check():
    assert set(CHECKS) == set(PARAMETER_TYPES)


def test_defaults_and_valid_arguments_pass():
    defaults = {name: spec.default for name, spec in PARAMETERS.items() if spec.default is not inspect.Parameter.empty}
    check_arguments({**defaults, **VALID, "custom_config": '{"epochs": 2}', "accuracy_threshold": 1,
                     "eval_config_json": '{"model_specs": []}', "input_format": "tfrecord"})


@pytest.mark.parametrize("name,value,rule", [
    ("train_steps", 0, "must be at least 1"),
    ("train_steps", -5, "must be at least 1"),
    ("train_steps", True, "must be an integer"),
    ("train_steps", 1.5, "must be an integer"),
    ("eval_steps", -1, "must be at least 1"),
    ("accuracy_threshold", 1.5, "must be a number between 0 and 1"),
    ("accuracy_threshold", -0.1, "must be a number between 0 and 1"),
    ("accuracy_threshold", "0.5", "must be a number between 0 and 1"),
    ("input_format", "parquet", "must be one of ['csv', 'tfrecord']"),
    ("custom_config", "[1, 2]", "must be a JSON object"),
    ("custom_config", "{epochs: 2}", "must be valid JSON"),
    ("eval_config_json", "{not json", "must be valid JSON"),
    ("eval_config_json", "42", "must be a JSON object (a TFMA EvalConfig)"),
    # parsed strictly into TFMA's EvalConfig proto before the first stage (issue 18, item 5)
    ("eval_config_json", '{"model_specs": {"label_key": "species"}}', "not a valid TFMA EvalConfig in JSON"),
    ("eval_config_json", '{"model_spec": [{"label_key": "species"}]}', "not a valid TFMA EvalConfig in JSON"),
    ("eval_config_json", '{"metrics_specs": [{"metrics": [{"class_name": "BinaryAccuracy", '
                         '"threshold": {"value_threshold": {"lower_bound": "high"}}}]}]}',
     "not a valid TFMA EvalConfig in JSON"),
    ("min_improvement", -1.5, "must be a number between -1 and 1"),
    ("min_improvement", 2, "must be a number between -1 and 1"),
    ("beam_pipeline_args", "--runner=DirectRunner", "must be a list of strings"),
    ("beam_pipeline_args", ["--direct_num_workers", 2], "must be a list of strings; item 1 is a int"),
    ("fail_on_anomalies", "yes", "must be true or false"),
    ("serving_base_dir", "", "is required"),
    ("data_root", " ", "is required"),
    ("module_source", "", "is required"),
])
def test_an_invalid_argument_names_the_parameter_and_the_rule(name, value, rule):
    with pytest.raises(InputError) as error:
        check_arguments({**VALID, name: value})
    assert error.value.field == name
    assert str(error.value).startswith(f"pipeline arguments: field {name!r}: {rule}")


def test_a_wrong_eval_config_names_the_field_where_it_breaks():
    with pytest.raises(InputError) as error:
        check_arguments({**VALID, "eval_config_json": '{"model_specs": {"label_key": "species"}}'})
    assert "repeated field model_specs must be in []" in str(error.value)


def test_a_small_negative_min_improvement_tolerates_a_regression():
    check_arguments({**VALID, "min_improvement": -0.01})


def test_a_module_without_run_fn_is_refused_before_any_stage():
    with pytest.raises(InputError, match="module_source: must define a top-level function 'run_fn'") as error:
        check_arguments({**VALID, "module_source": "def preprocessing_fn(inputs):\n    return inputs\n"})
    assert error.value.field == "module_source"


def test_separate_modules_each_need_their_own_function():
    transform = "def preprocessing_fn(inputs):\n    return inputs\n"
    trainer = "def run_fn(fn_args):\n    pass\n"
    check_arguments({"transform_module_source": transform, "trainer_module_source": trainer})
    with pytest.raises(InputError, match="field 'trainer_module_source': .*: must define .*'run_fn'"):
        check_arguments({"transform_module_source": transform, "trainer_module_source": transform})
    with pytest.raises(InputError, match="field 'transform_module_source': transform_module_source: line 1: not valid"):
        check_arguments({"transform_module_source": "def preprocessing_fn(:\n", "trainer_module_source": trainer})


def test_an_empty_label_needs_an_eval_config():
    with pytest.raises(InputError, match="field 'label_key': is required unless eval_config_json is set"):
        check_arguments({**VALID, "label_key": ""})
    check_arguments({**VALID, "label_key": "", "eval_config_json": '{"model_specs": [{"label_key": "species"}]}'})
