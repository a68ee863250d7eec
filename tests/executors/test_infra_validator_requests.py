"""InfraValidator: requests to every signature, latency budget, parameters and inputs it refuses."""

import os
import shutil

import pytest

from tests._support import chain, infra
from tfx_kfp.components import names
from tfx_kfp.runtime.errors import InputError

FIX = chain.FIXTURES


def test_signature_that_fails_on_real_examples_is_not_blessed(tmp_path):
    """The model loads and serves; parsing the eval examples needs a feature they do not have."""
    import tensorflow as tf

    class Serving(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, examples):
            parsed = tf.io.parse_example(examples, {"island_code": tf.io.FixedLenFeature([], tf.float32)})
            return {"scores": parsed["island_code"] * 2.0}

    module = Serving()
    infra.save_module(module, str(tmp_path), {"serving_default": module.serve})
    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), model_root=str(tmp_path))
    assert blessed is False and infra.outputs(infra_blessing) == {"INFRA_NOT_BLESSED"}
    report = infra.report(tmp_path)
    assert "| serving\\_default | predict | rest | 10 | 10: InvalidArgument" in report
    assert "| serving\\_default | predict | grpc | 10 | 10: InvalidArgument" in report
    assert "island\\_code" in report


def test_signature_input_the_examples_lack_is_not_blessed_without_serving(tmp_path):
    import tensorflow as tf

    class Serving(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="island_code"),
                                      tf.TensorSpec([None], tf.float32, name=infra.FEATURE)])
        def serve(self, island_code, culmen_length_mm):
            return {"scores": island_code + culmen_length_mm}

    module = Serving()
    infra.save_module(module, str(tmp_path), {"serving_default": module.serve})
    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), model_root=str(tmp_path))
    assert blessed is False and infra.outputs(infra_blessing) == {"INFRA_NOT_BLESSED"}
    report = infra.report(tmp_path)
    assert "the examples have no feature 'island\\_code'" in report and "| rest |" not in report


def test_latency_budget_is_enforced(tmp_path):
    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), max_latency_ms=1e-3)  # 1 µs
    assert blessed is False and infra.outputs(infra_blessing) == {"INFRA_NOT_BLESSED"}
    assert "median latency" in infra.report(tmp_path) and "exceeds 0.001 ms" in infra.report(tmp_path)


@pytest.mark.parametrize("parameter,value,rule", [("num_examples", 0, "must be at least 1"),
                                                   ("request_timeout_s", 0.0, "must be a positive number"),
                                                   ("max_latency_ms", -1.0, "must be a positive number")])
def test_bad_parameters_are_input_errors_and_write_nothing(tmp_path, parameter, value, rule):
    with pytest.raises(InputError, match=f"field '{parameter}': {rule}"):
        chain.run_infra_validator(FIX, str(tmp_path), **{parameter: value})
    assert not os.path.exists(tmp_path / "infra_blessing")


def _classify_and_regress_model(model_root: str) -> None:
    """A TF1 export with classify and regress signatures on serialized tf.Examples (the Estimator layout)."""
    import tensorflow as tf

    path = os.path.join(model_root, "model", "Format-Serving")
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        serialized = tf.compat.v1.placeholder(tf.string, [None], name="tf_example")
        value = tf.io.parse_example(serialized, {infra.FEATURE: tf.io.FixedLenFeature([], tf.float32)})[infra.FEATURE]
        scores = tf.stack([value, 1.0 - value], axis=1)
        classes = tf.tile(tf.constant([["short", "long"]]), [tf.shape(value)[0], 1])
        signatures = tf.compat.v1.saved_model
        builder = signatures.Builder(path)
        builder.add_meta_graph_and_variables(session, [tf.saved_model.SERVING], signature_def_map={
            "classification": signatures.classification_signature_def(serialized, classes, scores),
            "regression": signatures.regression_signature_def(serialized, value)})
        builder.save()


def test_classify_and_regress_signatures_get_their_own_requests(tmp_path):
    _classify_and_regress_model(str(tmp_path))
    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), model_root=str(tmp_path))
    report = infra.report(tmp_path)
    assert blessed is True, report
    for signature, api in (("classification", "predict"), ("classification", "classify"),
                           ("regression", "predict"), ("regression", "regress")):
        for protocol in ("rest", "grpc"):
            assert f"| {signature} | {api} | {protocol} | {infra.NUM_EXAMPLES} | 0 |" in report
    logs = infra.warmup_logs(os.path.join(infra_blessing.path, "tf_serving_warmup_requests"))
    kinds = [log.WhichOneof("log_type") for log in logs]
    assert {kind: kinds.count(kind) for kind in kinds} == {
        "predict_log": 2 * infra.NUM_EXAMPLES, "classify_log": infra.NUM_EXAMPLES, "regress_log": infra.NUM_EXAMPLES}
    import tensorflow as tf

    examples = [tf.train.Example.FromString(record) for record in infra.eval_records(infra.NUM_EXAMPLES)]
    classify = [log.classify_log.request for log in logs if log.HasField("classify_log")]
    assert [list(r.input.example_list.examples) for r in classify] == [[example] for example in examples]


def test_restated_tfx_and_tf_serving_names_agree():
    from tfx.components.infra_validator import executor as tfx_executor
    from tfx.utils import path_utils

    from tfx_kfp.components.infra_validator import executor
    from tfx_kfp.serving.models.warmup import WARMUP_FILE

    assert (names.INFRA_BLESSED_FILE, executor.NOT_BLESSED_FILE, names.META_BLESSED) == (
        tfx_executor._BLESSED_FILENAME, tfx_executor._NOT_BLESSED_FILENAME, tfx_executor._BLESSED_KEY)
    assert (executor.MODEL_NAME, executor.MAX_LOADING_TIME_S) == (
        tfx_executor._DEFAULT_MODEL_NAME, tfx_executor._DEFAULT_MAX_LOADING_TIME_SEC)
    assert os.path.relpath(path_utils.warmup_file_path("model"), "model") == WARMUP_FILE == \
        os.path.join("assets.extra", names.WARMUP_FILE)


def test_examples_without_an_eval_split_are_an_input_error(tmp_path):
    shutil.copytree(os.path.join(FIX, "examples", "Split-train"), tmp_path / "examples" / "Split-train")
    (tmp_path / "examples.metadata.json").write_text('{"split_names": "[\\"train\\"]"}')
    with pytest.raises(InputError, match="field 'split_names': the Examples artifact has no 'eval' split"):
        chain.run_infra_validator(str(tmp_path), str(tmp_path), model_root=FIX)
    assert not os.path.exists(tmp_path / "infra_blessing")
