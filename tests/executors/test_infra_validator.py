"""InfraValidator, for real: TF Serving's loader, our server on loopback, requests from the fixture's eval examples."""

import glob
import os
import shutil

import pytest

from tests._support import chain
from tfx_kfp.components import names
from tfx_kfp.runtime.errors import InputError

FIX = chain.FIXTURES
FEATURE = "culmen_length_mm"  # a float feature of every penguin example
NUM_EXAMPLES = 10


def _eval_records(count: int):
    import tensorflow as tf

    files = sorted(glob.glob(os.path.join(FIX, "examples", "Split-eval", "*.gz")))
    return [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP").take(count)]


def _outputs(infra_blessing) -> set:
    return set(os.listdir(infra_blessing.path))


def _report(out) -> str:
    return open(os.path.join(out, "reports", "infra_validation.md")).read()


def _warmup_logs(path: str):
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    return [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(path)]


def _save_module(module, model_root: str, signatures) -> str:
    import tensorflow as tf

    path = os.path.join(model_root, "model", "Format-Serving")
    tf.saved_model.save(module, path, signatures=signatures)
    return path


def _keras_model_on_plain_module(model_root: str) -> str:
    """A Keras 3 model kept as an attribute of a plain tf.Module (the export the penguin module moved away from)."""
    import keras
    import tensorflow as tf

    features = keras.layers.Input(shape=(1,), name=FEATURE)
    keras_model = keras.Model(features, keras.layers.Dense(3)(features))

    class Serving(tf.Module):
        def __init__(self):
            super().__init__()
            self.model = keras_model

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name=FEATURE)])
        def serve(self, culmen_length_mm):
            return {"scores": self.model(tf.reshape(culmen_length_mm, [-1, 1]))}

    module = Serving()
    return _save_module(module, model_root, {"serving_default": module.serve})


@pytest.fixture(scope="module")
def penguin_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("infra"))
    blessed, infra_blessing = chain.run_infra_validator(FIX, out)
    return out, blessed, infra_blessing


def test_penguin_model_is_infra_blessed_with_warmup_requests(penguin_run):
    out, blessed, infra_blessing = penguin_run
    assert blessed is True and infra_blessing.metadata["blessed"] == 1
    assert _outputs(infra_blessing) == {"INFRA_BLESSED", "tf_serving_warmup_requests"}
    assert os.path.getsize(os.path.join(infra_blessing.path, "INFRA_BLESSED")) == 0
    report = _report(out)
    assert "**Infra-blessed.**" in report and "| loaded |" in report
    for signature in ("serving\\_default", "serving\\_examples"):
        for protocol in ("rest", "grpc"):
            assert f"| {signature} | predict | {protocol} | {NUM_EXAMPLES} | 0 |" in report


def test_warmup_file_is_what_tfx_make_warmup_writes_byte_for_byte(penguin_run):
    """TFX's own request builder and PredictionLog conversion, on the same model and examples."""
    from tfx.components.infra_validator import executor as tfx_executor
    from tfx.components.infra_validator import request_builder
    from tfx.proto import infra_validator_pb2
    from tfx.types import standard_artifacts

    from tfx_kfp.components.infra_validator.executor import MODEL_NAME

    _, _, infra_blessing = penguin_run
    logs = _warmup_logs(os.path.join(infra_blessing.path, "tf_serving_warmup_requests"))
    assert len(logs) == 2 * NUM_EXAMPLES and {log.WhichOneof("log_type") for log in logs} == {"predict_log"}
    ours = [log for log in logs if log.predict_log.request.model_spec.signature_name == "serving_examples"]

    model, examples = standard_artifacts.Model(), standard_artifacts.Examples()
    model.uri, examples.uri = os.path.join(FIX, "model"), os.path.join(FIX, "examples")
    examples.split_names = '["train", "eval"]'
    # TFX reads its examples shuffled (TFXIO's default): ask it for all of them, then match ours among them.
    spec = infra_validator_pb2.RequestSpec(
        tensorflow_serving=infra_validator_pb2.TensorFlowServingRequestSpec(signature_names=["serving_examples"]),
        split_name="eval", num_examples=100_000)
    theirs = {tfx_executor._convert_to_prediction_log(r).SerializeToString()
              for r in request_builder.build_requests(MODEL_NAME, model, examples, spec)}
    assert len(theirs) > NUM_EXAMPLES and len(ours) == NUM_EXAMPLES
    assert {log.SerializeToString() for log in ours} <= theirs
    # The other signature takes named features: each request holds one real example's values.
    import tensorflow as tf

    first = tf.train.Example.FromString(_eval_records(1)[0]).features.feature
    features = next(log for log in logs if log.predict_log.request.model_spec.signature_name == "serving_default")
    for name, tensor in features.predict_log.request.inputs.items():
        assert tf.make_ndarray(tensor).tolist() == pytest.approx(list(first[name].float_list.value))


def test_pushed_version_carries_the_warmup_file_and_our_server_replays_it_on_load(penguin_run, tmp_path):
    from kfp.dsl import Markdown

    from tfx_kfp.components.pusher import push
    from tfx_kfp.components.types import PushedModel
    from tfx_kfp.serving import server
    from tfx_kfp.serving.client import ServingClient
    from tfx_kfp.serving.manager import ModelManager
    from tfx_kfp.serving.model_config import single_model_config
    from tfx_kfp.serving.warmup import WARMUP_FILE, run_warmup

    _, _, infra_blessing = penguin_run
    base = str(tmp_path / "serving" / "penguin")
    pushed = PushedModel(uri=str(tmp_path / "pushed_model"))
    push.run(model=chain.artifact(FIX, "model"), blessing=chain.artifact(FIX, "blessing"), serving_base_dir=base,
             pushed_model=pushed, report=Markdown(uri=str(tmp_path / "push.md")), evaluation_metrics=None,
             source_run="", infra_blessing=infra_blessing)
    version = pushed.metadata[names.META_PUSHED_VERSION]
    with open(os.path.join(base, str(version), WARMUP_FILE), "rb") as pushed_file, \
            open(os.path.join(infra_blessing.path, names.WARMUP_FILE), "rb") as validated_file:
        assert pushed_file.read() == validated_file.read()

    replayed = []  # the server's own load path, with its warmup step recorded
    manager = ModelManager(single_model_config("penguin", base), poll_seconds=0,
                           warmup=lambda loaded: replayed.append(run_warmup(loaded)))
    manager.start()
    try:
        manager.wait_until_available(120)
    finally:
        manager.stop()
    assert replayed == [2 * NUM_EXAMPLES]

    with server.start("penguin", base, rest_port=0, grpc_port=0, poll_seconds=0) as handle:
        handle.wait_until_available(120)  # a failing warmup record would fail this load
        with ServingClient(rest_port=handle.rest_port, grpc_port=handle.grpc_port) as client:
            answer = client.predict("penguin", inputs={"examples": _eval_records(1)}, signature_name="serving_examples")
    assert len(answer["outputs"][0]) == 3


def test_keras3_model_on_a_plain_tf_module_is_not_blessed(tmp_path):
    """tf.saved_model.load serves it; in TF Serving's TF1 session its Keras variables are never restored."""
    import tensorflow as tf

    path = _keras_model_on_plain_module(str(tmp_path))
    answer = tf.saved_model.load(path).signatures["serving_default"](culmen_length_mm=tf.constant([0.5]))
    assert answer["scores"].shape == (1, 3)

    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), model_root=str(tmp_path))
    assert blessed is False and infra_blessing.metadata["blessed"] == 0
    assert _outputs(infra_blessing) == {"INFRA_NOT_BLESSED"}
    report = _report(tmp_path)
    assert "**Not infra-blessed.**" in report
    assert "Could not find variable" in report  # every request, over both protocols
    assert "| serving\\_default | predict | rest | 10 | 10:" in report
    assert "| serving\\_default | predict | grpc | 10 | 10:" in report


def test_model_without_the_serve_tag_fails_the_loader_and_is_not_blessed(tmp_path):
    """tf.saved_model.load takes a SavedModel's only MetaGraph whatever its tags; TF Serving needs 'serve'."""
    import tensorflow as tf

    path = os.path.join(tmp_path, "model", "Format-Serving")
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        features = tf.compat.v1.placeholder(tf.float32, [None], name=FEATURE)
        scale = tf.compat.v1.get_variable("scale", initializer=2.0, use_resource=True)
        session.run(tf.compat.v1.global_variables_initializer())
        builder = tf.compat.v1.saved_model.Builder(path)
        builder.add_meta_graph_and_variables(
            session, [tf.saved_model.TRAINING], signature_def_map={"serving_default": (
                tf.compat.v1.saved_model.predict_signature_def({FEATURE: features}, {"scores": features * scale}))})
        builder.save()
    assert tf.saved_model.load(path).signatures["serving_default"](culmen_length_mm=tf.constant([1.0]))

    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), model_root=str(tmp_path))
    assert blessed is False and _outputs(infra_blessing) == {"INFRA_NOT_BLESSED"}
    report = _report(tmp_path)
    assert "MetaGraphDef associated with tags 'serve' could not be found" in report
    assert "No requests were sent." in report


def test_signature_that_fails_on_real_examples_is_not_blessed(tmp_path):
    """The model loads and serves; parsing the eval examples needs a feature they do not have."""
    import tensorflow as tf

    class Serving(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, examples):
            parsed = tf.io.parse_example(examples, {"island_code": tf.io.FixedLenFeature([], tf.float32)})
            return {"scores": parsed["island_code"] * 2.0}

    module = Serving()
    _save_module(module, str(tmp_path), {"serving_default": module.serve})
    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), model_root=str(tmp_path))
    assert blessed is False and _outputs(infra_blessing) == {"INFRA_NOT_BLESSED"}
    report = _report(tmp_path)
    assert "| serving\\_default | predict | rest | 10 | 10: InvalidArgument" in report
    assert "| serving\\_default | predict | grpc | 10 | 10: InvalidArgument" in report
    assert "island\\_code" in report


def test_signature_input_the_examples_lack_is_not_blessed_without_serving(tmp_path):
    import tensorflow as tf

    class Serving(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="island_code"),
                                      tf.TensorSpec([None], tf.float32, name=FEATURE)])
        def serve(self, island_code, culmen_length_mm):
            return {"scores": island_code + culmen_length_mm}

    module = Serving()
    _save_module(module, str(tmp_path), {"serving_default": module.serve})
    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), model_root=str(tmp_path))
    assert blessed is False and _outputs(infra_blessing) == {"INFRA_NOT_BLESSED"}
    report = _report(tmp_path)
    assert "the examples have no feature 'island\\_code'" in report and "| rest |" not in report


def test_latency_budget_is_enforced(tmp_path):
    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), max_latency_ms=1e-3)  # 1 µs
    assert blessed is False and _outputs(infra_blessing) == {"INFRA_NOT_BLESSED"}
    assert "median latency" in _report(tmp_path) and "exceeds 0.001 ms" in _report(tmp_path)


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
        value = tf.io.parse_example(serialized, {FEATURE: tf.io.FixedLenFeature([], tf.float32)})[FEATURE]
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
    report = _report(tmp_path)
    assert blessed is True, report
    for signature, api in (("classification", "predict"), ("classification", "classify"),
                           ("regression", "predict"), ("regression", "regress")):
        for protocol in ("rest", "grpc"):
            assert f"| {signature} | {api} | {protocol} | {NUM_EXAMPLES} | 0 |" in report
    logs = _warmup_logs(os.path.join(infra_blessing.path, "tf_serving_warmup_requests"))
    kinds = [log.WhichOneof("log_type") for log in logs]
    assert {kind: kinds.count(kind) for kind in kinds} == {
        "predict_log": 2 * NUM_EXAMPLES, "classify_log": NUM_EXAMPLES, "regress_log": NUM_EXAMPLES}
    import tensorflow as tf

    examples = [tf.train.Example.FromString(record) for record in _eval_records(NUM_EXAMPLES)]
    classify = [log.classify_log.request for log in logs if log.HasField("classify_log")]
    assert [list(r.input.example_list.examples) for r in classify] == [[example] for example in examples]


def test_restated_tfx_and_tf_serving_names_agree():
    from tfx.components.infra_validator import executor as tfx_executor
    from tfx.utils import path_utils

    from tfx_kfp.components.infra_validator import executor
    from tfx_kfp.serving.warmup import WARMUP_FILE

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
