"""Small SavedModels for the serving tests and ``bench/serving_bench.py``: ``y = 0.5 * x + 2`` and others.

:func:`write_half_plus_two` writes a TF1-style SavedModel with the signatures
TF Serving's own test model has, so request bodies from TF Serving's docs
work unchanged:

=============================  ==========  ==========================================
signature                      method      inputs -> outputs
=============================  ==========  ==========================================
``serving_default``            predict     ``x`` float[-1] -> ``y`` float[-1]
``tensorflow/serving/regress`` regress     ``inputs`` (tf.Example, ``x``) -> ``outputs`` float[-1,1]
``regress_x_to_y``             regress     same as above
``tensorflow/serving/classify``classify    ``inputs`` -> ``scores`` float[-1,1]
``classify_x_to_y``            classify    same as above
``classify_labels``            classify    ``inputs`` -> ``classes`` string[-1,1], ``scores``
``multi_io``                   predict     ``x`` float[-1], ``label`` string[-1] ->
                                           ``y`` float[-1], ``label_bytes`` string[-1],
                                           ``x_int`` int32[-1]
=============================  ==========  ==========================================

:func:`write_half_plus_two_tf2` writes the same predict math as a TF2
(``tf.saved_model.save``) model, like the pipeline's Keras models.
Versions are written to a temporary directory and renamed into place, as a
pusher should, so a polling server never sees half a model.
"""

import os
from typing import Optional

from tfx_kfp.runtime import staging

__all__ = ["write_half_plus_two", "write_half_plus_two_tf2", "write_dense_stack",
           "write_corrupt_version", "write_blocking_load", "push_atomically",
           "half_plus_two_warmup_logs"]


def push_atomically(build, base_path: str, version: int) -> str:
    """Builds a version in an empty staging folder and renames it to ``base_path/version``, as a pusher does.

    Args:
        build: Callable(directory) that writes the SavedModel into the empty ``directory``.
        base_path: The model base path.
        version: Version number.

    Returns:
        The version directory.
    """
    target = os.path.join(base_path, str(version))
    with staging.staged_dir(target) as folder:
        build(folder)
    return target


def half_plus_two_warmup_logs():
    """PredictionLogs that exercise predict, classify and regress on the model."""
    import tensorflow as tf
    from tensorflow_serving.apis import (classification_pb2, predict_pb2, prediction_log_pb2,
                                         regression_pb2)

    example = tf.train.Example()
    example.features.feature["x"].float_list.value.append(1.0)
    predict = predict_pb2.PredictRequest()
    predict.model_spec.name = "warmup"
    predict.inputs["x"].CopyFrom(tf.make_tensor_proto([1.0, 2.0], dtype=tf.float32))
    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.signature_name = "classify_x_to_y"
    classify.input.example_list.examples.add().CopyFrom(example)
    regress = regression_pb2.RegressionRequest()
    regress.model_spec.signature_name = "regress_x_to_y"
    regress.input.example_list.examples.add().CopyFrom(example)
    return [
        prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=predict)),
        prediction_log_pb2.PredictionLog(
            classify_log=prediction_log_pb2.ClassifyLog(request=classify)),
        prediction_log_pb2.PredictionLog(
            regress_log=prediction_log_pb2.RegressLog(request=regress)),
    ]


def _build_half_plus_two(directory: str, slope: float, offset: float, warmup: bool,
                         extra_assets: Optional[dict]) -> None:
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None], name="x")
        a = tf.Variable(slope, name="a")
        b = tf.Variable(offset, name="b")
        y = tf.add(a * x, b, name="y")
        label = v1.placeholder(tf.string, [None], name="label")
        label_out = tf.identity(label, name="label_out")
        x_int = tf.cast(x, tf.int32, name="x_int")
        serialized = v1.placeholder(tf.string, [None], name="tf_example")
        features = tf.io.parse_example(serialized, {"x": tf.io.FixedLenFeature([1], tf.float32)})
        y_examples = tf.add(a * features["x"], b, name="y_from_examples")
        classes = tf.fill(tf.shape(y_examples), "half_plus_two", name="classes")
        info = v1.saved_model.utils.build_tensor_info
        signature = v1.saved_model.signature_def_utils.build_signature_def
        predict, classify, regress = ("tensorflow/serving/predict", "tensorflow/serving/classify",
                                      "tensorflow/serving/regress")
        regress_sig = signature({"inputs": info(serialized)}, {"outputs": info(y_examples)},
                                regress)
        classify_sig = signature({"inputs": info(serialized)}, {"scores": info(y_examples)},
                                 classify)
        signatures = {
            "serving_default": signature({"x": info(x)}, {"y": info(y)}, predict),
            "tensorflow/serving/regress": regress_sig,
            "regress_x_to_y": regress_sig,
            "tensorflow/serving/classify": classify_sig,
            "classify_x_to_y": classify_sig,
            "classify_labels": signature(
                {"inputs": info(serialized)},
                {"classes": info(classes), "scores": info(y_examples)}, classify),
            "multi_io": signature(
                {"x": info(x), "label": info(label)},
                {"y": info(y), "label_bytes": info(label_out), "x_int": info(x_int)}, predict),
        }
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            builder = v1.saved_model.Builder(directory)
            builder.add_meta_graph_and_variables(session, ["serve"],
                                                 signature_def_map=signatures)
            builder.save()
    extras = dict(extra_assets or {})
    for name, content in extras.items():
        path = os.path.join(directory, "assets.extra", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content if isinstance(content, bytes) else content.encode())
    if warmup:
        write_warmup_file(directory, half_plus_two_warmup_logs())


def write_half_plus_two(base_path: str, version: int, *, slope: float = 0.5,
                        offset: float = 2.0, warmup: bool = False,
                        extra_assets: Optional[dict] = None) -> str:
    """Writes the ``y = slope * x + offset`` model as ``base_path/version``.

    Args:
        base_path: Model base path (created if needed).
        version: Version number.
        slope: Multiplier (0.5 for half_plus_two).
        offset: Added constant (2 for half_plus_two).
        warmup: Also write ``assets.extra/tf_serving_warmup_requests``.
        extra_assets: More ``assets.extra`` files, name -> content.

    Returns:
        The version directory.
    """
    return push_atomically(
        lambda d: _build_half_plus_two(d, slope, offset, warmup, extra_assets), base_path,
        version)


def write_half_plus_two_tf2(base_path: str, version: int, *, offset: float = 2.0) -> str:
    """Writes ``y = 0.5 * x + offset`` with ``tf.saved_model.save`` (a TF2 SavedModel)."""
    import tensorflow as tf

    class HalfPlusTwo(tf.Module):
        def __init__(self):
            super().__init__()
            self.a = tf.Variable(0.5)
            self.b = tf.Variable(offset)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(self, x):
            return {"y": self.a * x + self.b}

    def build(directory: str) -> None:
        module = HalfPlusTwo()
        tf.saved_model.save(module, directory, signatures={"serving_default": module.serve})

    return push_atomically(build, base_path, version)


def write_dense_stack(base_path: str, version: int, *, inputs: int = 8, width: int = 2048,
                      layers: int = 4) -> str:
    """Writes a model whose session run dominates a request, ``x`` [-1, inputs] -> ``y`` [-1, 1].

    ``layers`` dense ``width x width`` ReLU layers with fixed random weights sit between
    the input and output projections. One row reads every weight once, so it costs about
    as much as a few more rows: what request batching amortises (bench/serving_bench.py).
    """
    import numpy as np
    import tensorflow as tf

    def build(directory: str) -> None:
        v1 = tf.compat.v1
        rng = np.random.default_rng(0)
        graph = tf.Graph()
        with graph.as_default():
            x = v1.placeholder(tf.float32, [None, inputs], name="x")
            hidden = x
            for index, (rows, columns) in enumerate(
                    [(inputs, width)] + [(width, width)] * layers + [(width, 1)]):
                weights = tf.Variable(rng.normal(0, columns ** -0.5, (rows, columns))
                                      .astype(np.float32), name=f"w{index}")
                hidden = tf.matmul(hidden, weights)
                if columns != 1:
                    hidden = tf.nn.relu(hidden)
            y = tf.identity(hidden, name="y")
            info = v1.saved_model.utils.build_tensor_info
            signature = v1.saved_model.signature_def_utils.build_signature_def(
                {"x": info(x)}, {"y": info(y)}, "tensorflow/serving/predict")
            with v1.Session(graph=graph) as session:
                session.run(v1.global_variables_initializer())
                builder = v1.saved_model.Builder(directory)
                builder.add_meta_graph_and_variables(
                    session, ["serve"], signature_def_map={"serving_default": signature})
                builder.save()

    return push_atomically(build, base_path, version)


def write_corrupt_version(base_path: str, version: int) -> str:
    """Writes a version directory whose ``saved_model.pb`` is garbage."""

    def build(directory: str) -> None:
        os.makedirs(os.path.join(directory, "variables"))
        with open(os.path.join(directory, "saved_model.pb"), "wb") as handle:
            handle.write(b"\x0a\xff\xff\xff\x7fthis is not a SavedModel")

    return push_atomically(build, base_path, version)


def write_blocking_load(base_path: str, version: int) -> str:
    """A version whose load never ends: its main op dequeues from a queue nothing fills."""
    def build(directory: str) -> None:
        import tensorflow as tf

        v1 = tf.compat.v1
        graph = tf.Graph()
        with graph.as_default():
            x = v1.placeholder(tf.float32, [None], name="x")
            y = tf.identity(x, name="y")
            blocked = tf.queue.FIFOQueue(1, [tf.float32], shapes=[[]]).dequeue().op
            info = v1.saved_model.utils.build_tensor_info
            signature = v1.saved_model.signature_def_utils.build_signature_def(
                {"x": info(x)}, {"y": info(y)}, "tensorflow/serving/predict")
            with v1.Session(graph=graph) as session:
                builder = v1.saved_model.Builder(directory)
                builder.add_meta_graph_and_variables(
                    session, ["serve"], signature_def_map={"serving_default": signature},
                    main_op=blocked)
                builder.save()

    return push_atomically(build, base_path, version)


def write_warmup_file(version_dir: str, prediction_logs) -> str:
    """Writes PredictionLog protos as a version's warmup file (TF Serving's TFRecord); returns its path."""
    import tensorflow as tf

    from tfx_kfp.serving.models.warmup import WARMUP_FILE

    path = os.path.join(version_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for entry in prediction_logs:
            writer.write(entry.SerializeToString())
    return path
