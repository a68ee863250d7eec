"""The default EvalConfig per kind of model, a user's EvalConfig, and the thresholds judged (issue 18)."""

import json

import pytest

from tfx_kfp.components.evaluator import eval_config
from tfx_kfp.components.evaluator.model_fit import BINARY, MULTI_CLASS, TRANSFORM_FEATURES, ModelFit
from tfx_kfp.reports.evaluation import render_evaluation_html, threshold_sentence
from tfx_kfp.runtime.errors import InputError

BINARY_MODEL = ModelFit("serving_default", BINARY, 2, "tips_xf", TRANSFORM_FEATURES)
MULTI_CLASS_MODEL = ModelFit("serving_examples", MULTI_CLASS, 3, "species")


def _build(model, **overrides):
    arguments = dict(label_key="label", accuracy_threshold=0.6, slice_features=[], model=model)
    return eval_config.build(**{**arguments, **overrides})


def _metrics(config):
    return [m.class_name for m in config.metrics_specs[0].metrics]


def test_binary_model_gets_binary_accuracy_and_a_confusion_matrix_at_its_threshold():
    config = _build(BINARY_MODEL)
    assert _metrics(config) == ["ExampleCount", "BinaryAccuracy", "ConfusionMatrixAtThresholds"]
    assert json.loads(config.metrics_specs[0].metrics[2].config) == {"thresholds": [0.5]}
    spec = config.model_specs[0]
    assert (spec.label_key, spec.signature_name, list(spec.preprocessing_function_names)) == (
        "tips_xf", "serving_default", [TRANSFORM_FEATURES])
    assert eval_config.blessing_metric(config) == "binary_accuracy"


def test_multi_class_model_gets_sparse_categorical_accuracy_and_the_multi_class_matrix():
    config = _build(MULTI_CLASS_MODEL)
    assert _metrics(config) == ["ExampleCount", "SparseCategoricalAccuracy", "MultiClassConfusionMatrixPlot"]
    assert not config.model_specs[0].preprocessing_function_names
    assert eval_config.blessing_metric(config) == "sparse_categorical_accuracy"


def test_negative_min_improvement_is_a_tolerated_regression():
    config = _build(MULTI_CLASS_MODEL, min_improvement=-0.02, has_baseline=True)
    change = config.metrics_specs[0].metrics[1].threshold.change_threshold
    assert change.absolute.value == pytest.approx(-0.02 - eval_config.CHANGE_TOLERANCE)
    rows = eval_config.value_thresholds(config, {"sparse_categorical_accuracy": 0.90},
                                        {"sparse_categorical_accuracy": 0.91})
    assert [r["passed"] for r in rows] == [True, True]  # 0.01 worse, within the 0.02 tolerance
    with pytest.raises(InputError, match="between -1 and 1"):
        _build(MULTI_CLASS_MODEL, min_improvement=-2.0)


def test_a_users_eval_config_is_parsed_strictly_and_keeps_its_own_metrics():
    text = json.dumps({"model_specs": [{"label_key": "tips_xf"}], "metrics_specs": [{"metrics": [
        {"class_name": "AUC", "config": '{"name": "auc"}', "threshold": {"value_threshold": {"lower_bound": 0.7}}}]}]})
    config = _build(BINARY_MODEL, eval_config_json=text, has_baseline=True)
    assert config.model_specs[0].signature_name == "serving_default"
    assert [s.name for s in config.model_specs] == ["candidate", "baseline"]
    assert eval_config.blessing_metric(config) == "auc"
    with pytest.raises(InputError, match="field 'eval_config_json': not a valid TFMA EvalConfig"):
        _build(BINARY_MODEL, eval_config_json='{"metrics_specs": {"metrics": []}}')


def test_why_not_blessed_has_a_sentence_per_failed_threshold():
    config = _build(BINARY_MODEL, has_baseline=True)
    rows = eval_config.value_thresholds(config, {"binary_accuracy": 0.55}, {"binary_accuracy": 0.70})
    assert [r["passed"] for r in rows] == [False, False]
    assert threshold_sentence(rows[0]) == "binary_accuracy is 0.5500, below the lower bound 0.6000."
    assert threshold_sentence(rows[1]).startswith("binary_accuracy changed by -0.1500 against the served model; "
                                                  "the change must be at least -0.0000")
    page = render_evaluation_html(blessed=False, overall={"binary_accuracy": 0.55}, per_slice=[], thresholds=rows,
                                  confusion_matrix=None, failures=["", ""])  # TFMA's messages are often empty
    why = page.split("Why not blessed", 1)[1].split("</ul>", 1)[0]
    assert why.count("<li>") == 2 and "below the lower bound" in why and "<li></li>" not in why
