"""The default evaluation fits the model: binary or multi-class from its signatures (issue 18, item 2)."""

import pytest

from tfx_kfp.components.evaluator.model_fit import BINARY, MULTI_CLASS, TRANSFORM_FEATURES, fit
from tfx_kfp.runtime.errors import InputError


def _signatures(output_shape, *, examples_signature="serving_default", outputs=None, transform_outputs=None):
    signatures = {examples_signature: {"inputs": {"examples": {"dtype": "string", "shape": [-1]}},
                                       "outputs": outputs or {"outputs": {"dtype": "float32", "shape": output_shape}}}}
    if transform_outputs is not None:
        signatures[TRANSFORM_FEATURES] = {"inputs": {"examples": {"dtype": "string", "shape": [-1]}},
                                          "outputs": {k: {"dtype": "float32", "shape": [-1]} for k in transform_outputs}}
    return signatures


@pytest.mark.parametrize("shape,kind,classes", [
    ([-1, 1], BINARY, 2),      # Dense(1, activation="sigmoid"): TFX's taxi model
    ([-1], BINARY, 2),         # a squeezed score
    ([-1, 3], MULTI_CLASS, 3),  # softmax over three classes: the penguin model
    ([-1, 2], MULTI_CLASS, 2),  # a two-class softmax is multi-class
])
def test_the_output_shape_decides_binary_or_multi_class(shape, kind, classes):
    model = fit(_signatures(shape), "label")
    assert (model.kind, model.num_classes, model.signature_name, model.label_key) == (kind, classes,
                                                                                      "serving_default", "label")
    assert model.preprocessing_function == ""


def test_serving_examples_is_preferred_to_serving_default_on_raw_values():
    signatures = _signatures([-1, 3], examples_signature="serving_examples")
    signatures["serving_default"] = {"inputs": {"x": {"dtype": "float32", "shape": [-1]}}, "outputs": {}}
    assert fit(signatures, "species").signature_name == "serving_examples"


def test_the_label_as_transform_features_outputs_it_as_tfx_examples_evaluate():
    model = fit(_signatures([-1, 1], transform_outputs=["tips_xf", "fare_xf"]), "tips")
    assert (model.label_key, model.preprocessing_function) == ("tips_xf", TRANSFORM_FEATURES)
    model = fit(_signatures([-1, 1], transform_outputs=["fare_xf"]), "tips")
    assert (model.label_key, model.preprocessing_function) == ("tips", "")


@pytest.mark.parametrize("signatures,rule", [
    (_signatures([-1, -1]), "no fixed last dimension"),
    (_signatures(None), "no fixed last dimension"),
    (_signatures(None, outputs={"a": {"dtype": "float32", "shape": [-1, 1]},
                                "b": {"dtype": "float32", "shape": [-1, 1]}}), "has 2 outputs"),
])
def test_what_the_signature_cannot_tell_is_an_error_naming_eval_config_json(signatures, rule):
    with pytest.raises(InputError, match=rule) as error:
        fit(signatures, "label")
    assert "set eval_config_json" in str(error.value)


def test_a_model_without_an_examples_signature_is_refused():
    with pytest.raises(InputError, match="signature taking serialized tf.Examples"):
        fit({"serving_default": {"inputs": {"x": {"dtype": "float32", "shape": [-1]}}, "outputs": {}}}, "label")


def test_a_users_eval_config_needs_only_the_signature():
    model = fit(_signatures(None, outputs={"a": {}, "b": {}}), "label", signature_only=True)
    assert model.signature_name == "serving_default"
