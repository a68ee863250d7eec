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
