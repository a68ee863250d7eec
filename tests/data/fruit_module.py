"""A TFX-style module file from outside the penguin preset, written the way TFX's own examples are.

It imports ``tfx.v1`` and types ``run_fn`` with ``tfx.components.FnArgs``, uses
a vocabulary (a string feature), and exports ``serving_default`` on
serialized tf.Examples, as TFX examples do. tfx-kfp must run it unchanged.
"""

from typing import List

import tensorflow as tf
import tensorflow_transform as tft
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

_LABEL_KEY = "fruit"
_NUMERIC_KEYS = ["weight_g"]
_CATEGORICAL_KEYS = ["color"]
_VOCAB_SIZE = 10


def preprocessing_fn(inputs):
    outputs = {key: tft.scale_to_0_1(inputs[key]) for key in _NUMERIC_KEYS}
    for key in _CATEGORICAL_KEYS:
        outputs[key] = tft.compute_and_apply_vocabulary(inputs[key], top_k=_VOCAB_SIZE, num_oov_buckets=1)
    outputs[_LABEL_KEY] = inputs[_LABEL_KEY]
    return outputs


def _input_fn(file_pattern: List[str], data_accessor: tfx.components.DataAccessor,
              schema: schema_pb2.Schema, batch_size: int) -> tf.data.Dataset:
    return data_accessor.tf_dataset_factory(
        file_pattern, tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=_LABEL_KEY), schema
    ).repeat()


def _build_keras_model() -> tf.keras.Model:
    weight = tf.keras.layers.Input(shape=(1,), name="weight_g", dtype=tf.float32)
    color = tf.keras.layers.Input(shape=(1,), name="color", dtype=tf.int64)
    color_one_hot = tf.keras.layers.CategoryEncoding(num_tokens=_VOCAB_SIZE + 1, output_mode="one_hot")(color)
    hidden = tf.keras.layers.Concatenate()([weight, color_one_hot])
    hidden = tf.keras.layers.Dense(8, activation="relu")(hidden)
    output = tf.keras.layers.Dense(2, activation="softmax")(hidden)
    model = tf.keras.Model(inputs={"weight_g": weight, "color": color}, outputs=output)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                  metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])
    return model


class _Exported(tf.Module):
    def __init__(self, model, tf_transform_output):
        super().__init__()
        self.model = model
        self.tft_layer = tf_transform_output.transform_features_layer()
        spec = tf_transform_output.raw_feature_spec()
        spec.pop(_LABEL_KEY)
        self.spec = spec

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_tf_examples(self, serialized):
        transformed = self.tft_layer(tf.io.parse_example(serialized, self.spec))
        return {"outputs": self.model({k: transformed[k] for k in ("weight_g", "color")})}


def run_fn(fn_args: tfx.components.FnArgs):
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    schema = tf_transform_output.transformed_metadata.schema
    train = _input_fn(fn_args.train_files, fn_args.data_accessor, schema, 20)
    evaluate = _input_fn(fn_args.eval_files, fn_args.data_accessor, schema, 10)
    model = _build_keras_model()
    model.fit(train, steps_per_epoch=fn_args.train_steps, validation_data=evaluate,
              validation_steps=fn_args.eval_steps, verbose=2)
    exported = _Exported(model, tf_transform_output)
    tf.saved_model.save(exported, fn_args.serving_model_dir,
                        signatures={"serving_default": exported.serve_tf_examples})
