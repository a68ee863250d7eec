"""A model's TensorFlow error surfaces through TFMA's serial retry (issue 18 item 3)."""

import numpy as np
import pytest

from tfx_kfp.components import model_failures
from tfx_kfp.components.model_failures import ModelDataError


def _tfma_retry_that_fails_again():
    """TFMA's own batch-then-serial retry (BatchReducibleBatchedDoFnWithModels) around a model that fails on
    the batch with a real TF op error and on the single examples with a call error."""
    import tensorflow as tf
    from tensorflow_model_analysis.utils import model_util

    @tf.function
    def model(features):
        return tf.matmul(features, tf.ones([4, 8]))

    class Predict(model_util.BatchReducibleBatchedDoFnWithModels):
        def _batch_reducible_process(self, element):
            batch = np.asarray(element["features"], dtype=np.float32)
            if len(batch) > 1:
                return [model(tf.constant(batch[:, :3]))]  # a feature short: the op fails
            signature = model.get_concrete_function(tf.TensorSpec([None, 4], tf.float32))
            return [signature(tf.constant(batch), tf.constant(batch))]  # called as TFMA calls a signature wrongly

    return Predict({}).process({"features": np.ones([3, 4])})


def test_the_tf_error_is_shown_not_tfmas_retry_artefact():
    with pytest.raises(ModelDataError) as error:
        with model_failures.explained("evaluator"):
            _tfma_retry_that_fails_again()
    message = str(error.value)
    assert message.startswith("evaluator: the model failed on the examples: InvalidArgumentError: ")
    assert "Dimensions must be equal, but are 3 and 4" in message
    assert "(raised as TypeError: " in message and "positional" in message
    assert "no value" not in message  # no features named where none are known


def test_other_failures_pass_through_unchanged():
    with pytest.raises(KeyError):
        with model_failures.explained("trainer", schema_metadata={"features_without_values": ["fare"]}):
            raise KeyError("a bug in the module, not the data")
