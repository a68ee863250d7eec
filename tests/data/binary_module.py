"""A binary classifier module written the way TFX users write them (TFX's taxi example is the model).

One sigmoid output, ``tf.keras`` (Keras 2 under TFX's stack), the Transform layer attached to the
model, ``serving_default`` on serialized tf.Examples, a TensorBoard callback, and the export with
``tf.saved_model.save``. tfx-kfp must bless, infra-validate and push it with its defaults.
"""

from typing import List

import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

_LABEL_KEY = "fruit"
_NUMERIC_KEYS = ["weight_g"]
_CATEGORICAL_KEYS = ["color"]
_VOCAB_SIZE = 10


def preprocessing_fn(inputs):
    outputs = {key: tft.scale_to_z_score(inputs[key]) for key in _NUMERIC_KEYS}
    for key in _CATEGORICAL_KEYS:
        outputs[key] = tft.compute_and_apply_vocabulary(inputs[key], top_k=_VOCAB_SIZE, num_oov_buckets=1)
    outputs[_LABEL_KEY] = inputs[_LABEL_KEY]
    return outputs


def _input_fn(file_pattern: List[str], data_accessor: tfx.components.DataAccessor,
              tf_transform_output: tft.TFTransformOutput, batch_size: int) -> tf.data.Dataset:
    return data_accessor.tf_dataset_factory(
        file_pattern, tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=_LABEL_KEY),
        tf_transform_output.transformed_metadata.schema).repeat()


def _build_keras_model() -> tf.keras.Model:
    weight = tf.keras.layers.Input(shape=(1,), name="weight_g", dtype=tf.float32)
    color = tf.keras.layers.Input(shape=(1,), name="color", dtype=tf.int64)
    color_one_hot = tf.keras.layers.CategoryEncoding(num_tokens=_VOCAB_SIZE + 1, output_mode="one_hot")(color)
    hidden = tf.keras.layers.Dense(8, activation="relu")(tf.keras.layers.Concatenate()([weight, color_one_hot]))
    output = tf.keras.layers.Dense(1, activation="sigmoid")(hidden)
    model = tf.keras.Model(inputs={"weight_g": weight, "color": color}, outputs=output)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=[tf.keras.metrics.BinaryAccuracy()])
    return model


def _get_serve_tf_examples_fn(model, tf_transform_output):
    model.tft_layer = tf_transform_output.transform_features_layer()

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_tf_examples_fn(serialized_tf_examples):
        feature_spec = tf_transform_output.raw_feature_spec()
        feature_spec.pop(_LABEL_KEY)
        transformed = model.tft_layer(tf.io.parse_example(serialized_tf_examples, feature_spec))
        return {"outputs": model(transformed)}

    return serve_tf_examples_fn


def run_fn(fn_args: tfx.components.FnArgs):
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    train = _input_fn(fn_args.train_files, fn_args.data_accessor, tf_transform_output, 20)
    evaluate = _input_fn(fn_args.eval_files, fn_args.data_accessor, tf_transform_output, 10)
    model = _build_keras_model()
    tensorboard_callback = tf.keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir, update_freq="epoch")
    model.fit(train, steps_per_epoch=fn_args.train_steps, validation_data=evaluate,
              validation_steps=fn_args.eval_steps, callbacks=[tensorboard_callback], verbose=2)
    signatures = {"serving_default": _get_serve_tf_examples_fn(model, tf_transform_output)}
    tf.saved_model.save(model, fn_args.serving_model_dir, signatures=signatures)
