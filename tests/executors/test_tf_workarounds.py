"""TensorFlow workarounds (runtime/tf_workarounds.py): needed where applied, gone after the block."""

from tfx_kfp.runtime import tf_workarounds


def _rules():
    from tensorflow.python.autograph.core import config

    return config.CONVERSION_RULES


def _keras2_left_alone() -> bool:
    """Whether AutoGraph would call a tf_keras function as it is (``Layer.__call__`` here)."""
    from tensorflow.python.autograph.impl import conversion
    from tf_keras.src.engine import base_layer

    return conversion.is_allowlisted(base_layer.Layer.__call__)


def test_the_installed_tensorflow_converts_keras2_exactly_where_the_workaround_is_listed():
    """Fails when a TensorFlow release listed in WORKAROUNDS leaves tf_keras alone itself (drop it there),
    or when one not listed converts it (add it)."""
    import tensorflow as tf

    listed = tf_workarounds.needed("keras2_not_autographed", tf.__version__)
    assert listed != _keras2_left_alone(), (tf.__version__, listed)


def test_keras2_is_left_alone_inside_the_block_only():
    before = _rules()
    with tf_workarounds.keras2_not_autographed():
        assert _keras2_left_alone()
    assert _rules() is before


def test_a_keras2_model_trains_and_saves_the_same_inside_the_block(tmp_path):
    """The same weights after the same steps, and a SavedModel that serves the same answers."""
    import numpy as np
    import tensorflow as tf
    import tf_keras

    def train_and_save(folder):
        tf_keras.utils.set_random_seed(7)
        model = tf_keras.Sequential([tf_keras.layers.Dense(4, activation="relu"), tf_keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        x = np.arange(64, dtype="float32").reshape(32, 2) / 64
        model.fit(x, x.sum(axis=1), epochs=2, batch_size=8, verbose=0)
        tf.saved_model.save(model, str(folder))
        return [w.numpy() for w in model.weights], tf.saved_model.load(str(folder)).signatures["serving_default"]

    plain_weights, plain = train_and_save(tmp_path / "plain")
    with tf_workarounds.keras2_not_autographed():
        weights, served = train_and_save(tmp_path / "workaround")
    for a, b in zip(plain_weights, weights):
        np.testing.assert_array_equal(a, b)
    batch = tf.constant([[0.1, 0.2], [0.5, 0.9]])
    np.testing.assert_array_equal(list(plain(batch).values())[0].numpy(), list(served(batch).values())[0].numpy())


def _tft_left_alone() -> bool:
    """Whether AutoGraph would call tf.Transform's and tfx-bsl's functions as they are."""
    from tensorflow.python.autograph.impl import conversion
    from tensorflow_transform import output_wrapper
    from tfx_bsl.tfxio import tensor_representation_util

    return all(conversion.is_allowlisted(f) for f in (
        output_wrapper.TransformFeaturesLayer.call, tensor_representation_util.InferTensorRepresentationsFromSchema))


def test_tensorflow_converts_tft_unless_told_so_that_the_rule_is_still_needed():
    """Fails when TensorFlow itself leaves tf.Transform and tfx-bsl alone (then drop the rule)."""
    import tensorflow as tf

    assert tf_workarounds.needed("tft_not_autographed", tf.__version__)
    assert not _tft_left_alone()
    with tf_workarounds.not_autographed():
        assert _tft_left_alone() and _keras2_left_alone()
    assert not _tft_left_alone()


def _taxi_module():
    """TFX's own taxi module (native Keras), from the installed tfx wheel."""
    import importlib.util
    import os

    import tfx

    path = os.path.join(os.path.dirname(tfx.__file__), "examples", "chicago_taxi_pipeline",
                        "taxi_utils_native_keras.py")
    spec = importlib.util.spec_from_file_location("taxi_utils_native_keras", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tfx_transform_signature_is_the_same_graph_and_values_without_converting_tft():
    """TFX's taxi module's ``transform_features`` signature (a tf.function calling ``tft_layer``) over the
    fixture chain's transform graph: the same ops and bit-identical outputs on the fixture's eval examples."""
    import collections
    import glob

    import numpy as np
    import tensorflow as tf
    import tensorflow_transform as tft

    from tests._support import chain

    module = _taxi_module()
    examples = tf.constant([r.numpy() for r in tf.data.TFRecordDataset(
        glob.glob(f"{chain.FIXTURES}/examples/Split-eval/*.gz"), compression_type="GZIP")])
    transform_output = tft.TFTransformOutput(f"{chain.FIXTURES}/transform_graph")

    def traced():
        function = module._get_transform_features_signature(tf.Module(), transform_output).get_concrete_function()
        graph = function.graph.as_graph_def()
        ops = collections.Counter(node.op for node in graph.node)
        for library_function in graph.library.function:
            ops.update(node.op for node in library_function.node_def)
        outputs = {name: tf.sparse.to_dense(value) if isinstance(value, tf.SparseTensor) else value
                   for name, value in function(examples).items()}
        return ops, {name: value.numpy() for name, value in outputs.items()}

    plain_ops, plain = traced()
    with tf_workarounds.not_autographed():
        ops, outputs = traced()
    assert ops == plain_ops
    assert sorted(outputs) == sorted(plain) and len(plain) > 3
    for name in plain:
        np.testing.assert_array_equal(outputs[name], plain[name], err_msg=name)
