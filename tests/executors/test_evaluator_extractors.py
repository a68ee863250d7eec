"""The Evaluator's extractors (components/evaluator/extractors.py) leave TFMA's evaluation unchanged.

TFX's Evaluator executor runs twice on the fixture chain's examples, once with TFMA's default
extractors and once with ours (its ``custom_extractors`` hook), and the evaluations it writes must be
the same bytes: for the Keras model of the chain, for the same model exported with
``tf.saved_model.save`` (a generic SavedModel, where every feature is dropped), with feature slices
and with a baseline. The rule itself (what stays) is checked on TFMA's own metrics.
"""

import json
import os

import pytest

from tests._support import chain
from tfx_kfp.components.evaluator import eval_config, extractors, model_fit
from tfx_kfp.runtime import tfx_bridge
from tfx_kfp.runtime.signatures import read_signatures

OUTPUT_FILES = ("metrics-00000-of-00001.tfrecord", "plots-00000-of-00001.tfrecord", "validations.tfrecord",
                "attributions-00000-of-00001.tfrecord", "eval_config.json")


def _config(model_dir: str, slice_features=(), has_baseline=False):
    fit = model_fit.fit(read_signatures(os.path.join(model_dir, "Format-Serving")), "species")
    return eval_config.build(label_key="species", accuracy_threshold=0.5, slice_features=list(slice_features),
                             model=fit, eval_config_json="", has_baseline=has_baseline, min_improvement=-1.0)


def _evaluate(model_dir: str, out: str, config, *, ours: bool, baseline: bool = False) -> str:
    from tfx.components.evaluator import executor
    from tfx.types import standard_artifacts
    from tfx.types import standard_component_specs as specs

    def model():
        artifact = standard_artifacts.Model()
        artifact.uri = model_dir
        return artifact

    examples = tfx_bridge.to_tfx("Examples", chain.artifact(chain.FIXTURES, "examples"))
    evaluation, blessing = standard_artifacts.ModelEvaluation(), standard_artifacts.ModelBlessing()
    evaluation.uri, blessing.uri = os.path.join(out, "evaluation"), os.path.join(out, "blessing")
    inputs = {specs.EXAMPLES_KEY: [examples], specs.MODEL_KEY: [model()]}
    if baseline:
        inputs[specs.BASELINE_MODEL_KEY] = [model()]
    properties = {specs.EVAL_CONFIG_KEY: tfx_bridge.proto_json(config),
                  specs.EXAMPLE_SPLITS_KEY: json.dumps(["eval"])}
    if ours:
        properties["custom_extractors"] = extractors.HOOK
    executor.Executor(tfx_bridge.beam_context(chain.BEAM_ARGS)).Do(
        inputs, {specs.EVALUATION_KEY: [evaluation], specs.BLESSING_KEY: [blessing]}, properties)
    return evaluation.uri


def _assert_same_evaluation(model_dir: str, tmp_path, config, baseline: bool = False) -> None:
    tfma_dir = _evaluate(model_dir, str(tmp_path / "tfma"), config, ours=False, baseline=baseline)
    ours_dir = _evaluate(model_dir, str(tmp_path / "ours"), config, ours=True, baseline=baseline)
    for name in OUTPUT_FILES:
        with open(os.path.join(tfma_dir, name), "rb") as a, open(os.path.join(ours_dir, name), "rb") as b:
            assert a.read() == b.read(), f"{name} differs with our extractors"
    with open(os.path.join(tfma_dir, "metrics-00000-of-00001.tfrecord"), "rb") as f:
        assert len(f.read()) > 100  # metrics were written, not two empty files


def _kept(model_dir: str, config):
    import tensorflow_model_analysis as tfma

    model = tfma.default_eval_shared_model(os.path.join(model_dir, "Format-Serving"), eval_config=config)
    return extractors.kept(model, config)


@pytest.fixture(scope="module")
def generic_model(tmp_path_factory) -> str:
    """The chain's model exported with ``tf.saved_model.save``: TFMA evaluates it as a generic SavedModel."""
    import tensorflow as tf

    root = str(tmp_path_factory.mktemp("generic") / "model")
    loaded = tf.saved_model.load(os.path.join(chain.FIXTURES, "model", "Format-Serving"))
    tf.saved_model.save(loaded, os.path.join(root, "Format-Serving"), signatures=dict(loaded.signatures))
    return root


def test_keras_model_evaluation_is_unchanged(tmp_path):
    model_dir = os.path.join(chain.FIXTURES, "model")
    _assert_same_evaluation(model_dir, tmp_path, _config(model_dir))


def test_generic_model_drops_every_feature_and_its_evaluation_is_unchanged(generic_model, tmp_path):
    config = _config(generic_model)
    assert _kept(generic_model, config) == {"features": set(), "transformed_features": set(), "input": set()}
    _assert_same_evaluation(generic_model, tmp_path, config)


def test_sliced_evaluation_against_a_baseline_keeps_the_slice_feature_and_is_unchanged(generic_model, tmp_path):
    config = _config(generic_model, slice_features=["culmen_depth_mm"], has_baseline=True)
    assert _kept(generic_model, config)["features"] == {"culmen_depth_mm"}
    _assert_same_evaluation(generic_model, tmp_path, config, baseline=True)


def _with_metric(config, class_name: str, metric_config: dict, query_key: str = ""):
    import tensorflow_model_analysis as tfma

    config = type(config).FromString(config.SerializeToString())
    config.metrics_specs.append(tfma.MetricsSpec(
        metrics=[tfma.MetricConfig(class_name=class_name, config=json.dumps(metric_config))], query_key=query_key))
    return config


def test_a_metric_that_reads_features_keeps_them_all(generic_model):
    config = _with_metric(_config(generic_model), "MinLabelPosition", {"label_key": "body_mass_g"},
                          query_key="culmen_length_mm")
    kept = _kept(generic_model, config)
    assert kept["features"] is extractors.ALL and kept["transformed_features"] is extractors.ALL


def test_a_query_key_keeps_its_feature(generic_model):
    config = _with_metric(_config(generic_model), "ExampleCount", {}, query_key="culmen_length_mm")
    assert _kept(generic_model, config)["features"] == {"culmen_length_mm"}


def test_a_metric_with_its_own_preprocessor_keeps_everything(generic_model):
    config = _with_metric(_config(generic_model), "SetMatchPrecision", {"top_k": 1})
    assert _kept(generic_model, config) is None


def test_tfma_still_has_the_unbatching_step_this_relies_on(generic_model):
    """Fails when TFMA renames or drops its UnbatchExtractor: then no feature would be dropped."""
    import tensorflow_model_analysis as tfma

    config = _config(generic_model)
    model = tfma.default_eval_shared_model(os.path.join(generic_model, "Format-Serving"), eval_config=config)
    stages = [e.stage_name for e in extractors.custom_extractors(model, config, None)]
    assert stages.index(extractors.STAGE_NAME) == stages.index("ExtractUnbatchedInputs") - 1
