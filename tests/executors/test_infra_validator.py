"""InfraValidator, for real: TF Serving's loader, our server on loopback, requests from the fixture's eval examples.

The penguin model's blessing and warmup file, and models TF Serving's loader refuses.
"""

import os

import pytest

from tests._support import chain, infra
from tfx_kfp.components import names

FIX = chain.FIXTURES


def _keras_model_on_plain_module(model_root: str) -> str:
    """A Keras 3 model kept as an attribute of a plain tf.Module (the export the penguin module moved away from)."""
    import keras
    import tensorflow as tf

    features = keras.layers.Input(shape=(1,), name=infra.FEATURE)
    keras_model = keras.Model(features, keras.layers.Dense(3)(features))

    class Serving(tf.Module):
        def __init__(self):
            super().__init__()
            self.model = keras_model

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name=infra.FEATURE)])
        def serve(self, culmen_length_mm):
            return {"scores": self.model(tf.reshape(culmen_length_mm, [-1, 1]))}

    module = Serving()
    return infra.save_module(module, model_root, {"serving_default": module.serve})


@pytest.fixture(scope="module")
def penguin_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("infra"))
    blessed, infra_blessing = chain.run_infra_validator(FIX, out)
    return out, blessed, infra_blessing


def test_penguin_model_is_infra_blessed_with_warmup_requests(penguin_run):
    out, blessed, infra_blessing = penguin_run
    assert blessed is True and infra_blessing.metadata["blessed"] == 1
    assert infra.outputs(infra_blessing) == {"INFRA_BLESSED", "tf_serving_warmup_requests"}
    assert os.path.getsize(os.path.join(infra_blessing.path, "INFRA_BLESSED")) == 0
    report = infra.report(out)
    assert "**Infra-blessed.**" in report and "| loaded |" in report
    for signature in ("serving\\_default", "serving\\_examples"):
        for protocol in ("rest", "grpc"):
            assert f"| {signature} | predict | {protocol} | {infra.NUM_EXAMPLES} | 0 |" in report


def test_warmup_file_is_what_tfx_make_warmup_writes_byte_for_byte(penguin_run):
    """TFX's own request builder and PredictionLog conversion, on the same model and examples."""
    from tfx.components.infra_validator import executor as tfx_executor
    from tfx.components.infra_validator import request_builder
    from tfx.proto import infra_validator_pb2
    from tfx.types import standard_artifacts

    from tfx_kfp.components.infra_validator.executor import MODEL_NAME

    _, _, infra_blessing = penguin_run
    logs = infra.warmup_logs(os.path.join(infra_blessing.path, "tf_serving_warmup_requests"))
    assert len(logs) == 2 * infra.NUM_EXAMPLES and {log.WhichOneof("log_type") for log in logs} == {"predict_log"}
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
    assert len(theirs) > infra.NUM_EXAMPLES and len(ours) == infra.NUM_EXAMPLES
    assert {log.SerializeToString() for log in ours} <= theirs
    # The other signature takes named features: each request holds one real example's values.
    import tensorflow as tf

    first = tf.train.Example.FromString(infra.eval_records(1)[0]).features.feature
    features = next(log for log in logs if log.predict_log.request.model_spec.signature_name == "serving_default")
    for name, tensor in features.predict_log.request.inputs.items():
        assert tf.make_ndarray(tensor).tolist() == pytest.approx(list(first[name].float_list.value))


def test_pushed_version_carries_the_warmup_file_and_our_server_replays_it_on_load(penguin_run, tmp_path):
    from kfp.dsl import Markdown

    from tfx_kfp.components.pusher import executor as push
    from tfx_kfp.components.types import PushedModel
    from tfx_kfp.serving import server
    from tfx_kfp.serving.client import ServingClient
    from tfx_kfp.serving.models.manager import ModelManager
    from tfx_kfp.serving.models.config import single_model_config
    from tfx_kfp.serving.models.warmup import WARMUP_FILE, run_warmup

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
    assert replayed == [2 * infra.NUM_EXAMPLES]

    with server.start("penguin", base, rest_port=0, grpc_port=0, poll_seconds=0) as handle:
        handle.wait_until_available(120)  # a failing warmup record would fail this load
        with ServingClient(rest_port=handle.rest_port, grpc_port=handle.grpc_port) as client:
            answer = client.predict("penguin", inputs={"examples": infra.eval_records(1)}, signature_name="serving_examples")
    assert len(answer["outputs"][0]) == 3


def test_keras3_model_on_a_plain_tf_module_is_not_blessed(tmp_path):
    """tf.saved_model.load serves it; in TF Serving's TF1 session its Keras variables are never restored."""
    import tensorflow as tf

    path = _keras_model_on_plain_module(str(tmp_path))
    answer = tf.saved_model.load(path).signatures["serving_default"](culmen_length_mm=tf.constant([0.5]))
    assert answer["scores"].shape == (1, 3)

    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), model_root=str(tmp_path))
    assert blessed is False and infra_blessing.metadata["blessed"] == 0
    assert infra.outputs(infra_blessing) == {"INFRA_NOT_BLESSED"}
    report = infra.report(tmp_path)
    assert "**Not infra-blessed.**" in report
    assert "Could not find variable" in report  # every request, over both protocols
    # the cause and both fixes, in the report and on the blessing (the run's one-line result reads it)
    cause = infra_blessing.metadata[names.META_INFRA_CAUSE]
    assert "Keras 3" in cause and "TF_USE_LEGACY_KERAS=1" in cause and "keras.export.ExportArchive" in cause
    assert "Cause: a Keras 3 model" in report
    assert "| serving\\_default | predict | rest | 10 | 10:" in report
    assert "| serving\\_default | predict | grpc | 10 | 10:" in report


def test_model_without_the_serve_tag_fails_the_loader_and_is_not_blessed(tmp_path):
    """tf.saved_model.load takes a SavedModel's only MetaGraph whatever its tags; TF Serving needs 'serve'."""
    import tensorflow as tf

    path = os.path.join(tmp_path, "model", "Format-Serving")
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        features = tf.compat.v1.placeholder(tf.float32, [None], name=infra.FEATURE)
        scale = tf.compat.v1.get_variable("scale", initializer=2.0, use_resource=True)
        session.run(tf.compat.v1.global_variables_initializer())
        builder = tf.compat.v1.saved_model.Builder(path)
        builder.add_meta_graph_and_variables(
            session, [tf.saved_model.TRAINING], signature_def_map={"serving_default": (
                tf.compat.v1.saved_model.predict_signature_def({infra.FEATURE: features}, {"scores": features * scale}))})
        builder.save()
    assert tf.saved_model.load(path).signatures["serving_default"](culmen_length_mm=tf.constant([1.0]))

    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), model_root=str(tmp_path))
    assert blessed is False and infra.outputs(infra_blessing) == {"INFRA_NOT_BLESSED"}
    report = infra.report(tmp_path)
    assert "MetaGraphDef associated with tags 'serve' could not be found" in report
    assert "No requests were sent." in report
