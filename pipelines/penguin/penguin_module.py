"""TFX module file for the penguin classifier: ``preprocessing_fn`` and ``run_fn``.

Written for TFX's own Transform and Trainer (it runs unchanged there) and for
Keras 3. The exported SavedModel has two signatures:

* ``serving_default`` takes the four raw measurements as float32 tensors of
  shape [batch] and returns ``scores`` (softmax over species 0/1/2), so TF
  Serving REST/gRPC callers send plain numbers;
* ``serving_examples`` takes serialized tf.Examples, for TFMA.
"""

import keras
import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

FEATURE_KEYS = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]
LABEL_KEY = "species"
NUM_CLASSES = 3
TRAIN_BATCH_SIZE = 20
EVAL_BATCH_SIZE = 10


def preprocessing_fn(inputs):
    """Scales every measurement to z-scores; passes the label through."""
    outputs = {key: tft.scale_to_z_score(inputs[key]) for key in FEATURE_KEYS}
    outputs[LABEL_KEY] = inputs[LABEL_KEY]
    return outputs


def _dataset(file_pattern, data_accessor, tf_transform_output, batch_size):
    return data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=LABEL_KEY),
        tf_transform_output.transformed_metadata.schema,
    ).repeat()


def _build_model(learning_rate):
    inputs = {key: keras.layers.Input(shape=(1,), name=key) for key in FEATURE_KEYS}
    hidden = keras.layers.Concatenate()([inputs[key] for key in FEATURE_KEYS])
    for _ in range(2):
        hidden = keras.layers.Dense(8, activation="relu")(hidden)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax")(hidden)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def _export(model, tf_transform_output, path):
    """Writes the SavedModel with Keras' ExportArchive.

    ExportArchive tracks every variable explicitly, so the SavedModel also
    restores through the TF1 loader that TF Serving uses (a Keras 3 model saved
    as an attribute of a plain ``tf.Module`` does not).
    """
    tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    raw_spec.pop(LABEL_KEY, None)

    def scores(raw):
        transformed = tft_layer(raw)
        return {"scores": model({key: transformed[key] for key in FEATURE_KEYS}, training=False)}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(tft_layer)

    def serve_raw(culmen_length_mm, culmen_depth_mm, flipper_length_mm, body_mass_g):
        values = (culmen_length_mm, culmen_depth_mm, flipper_length_mm, body_mass_g)
        return scores({key: tf.reshape(v, [-1, 1]) for key, v in zip(FEATURE_KEYS, values)})

    def serve_examples(serialized):
        return scores(tf.io.parse_example(serialized, raw_spec))

    archive.add_endpoint("serving_default", serve_raw,
                         input_signature=[tf.TensorSpec([None], tf.float32, name=k) for k in FEATURE_KEYS])
    archive.add_endpoint("serving_examples", serve_examples,
                         input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    archive.write_out(path)


def run_fn(fn_args):
    """Trains the classifier and exports the two serving signatures."""
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    config = fn_args.custom_config or {}
    keras.utils.set_random_seed(int(config.get("seed", 0)))
    train = _dataset(fn_args.train_files, fn_args.data_accessor, tf_transform_output, TRAIN_BATCH_SIZE)
    evaluate = _dataset(fn_args.eval_files, fn_args.data_accessor, tf_transform_output, EVAL_BATCH_SIZE)
    model = _build_model(float(config.get("learning_rate", 1e-2)))
    epochs = int(config.get("epochs", 10))
    model.fit(train, steps_per_epoch=max(1, fn_args.train_steps // epochs), epochs=epochs,
              validation_data=evaluate, validation_steps=fn_args.eval_steps,
              callbacks=[keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir)], verbose=2)
    _export(model, tf_transform_output, fn_args.serving_model_dir)
