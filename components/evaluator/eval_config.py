"""Builds the TFMA EvalConfig from the evaluator's simple parameters."""

import os
from typing import List

from google.protobuf import json_format
from tensorflow_model_analysis.proto import config_pb2

from tfx_kfp.components._runtime.errors import InputError

ACCURACY_METRIC = "SparseCategoricalAccuracy"
EXAMPLES_SIGNATURES = ("serving_examples", "serving_default")


def examples_signature(saved_model_dir: str) -> str:
    """The first signature that takes a single string tensor (serialized tf.Examples).

    TFMA feeds serialized examples. Our exported models keep ``serving_default`` for raw feature
    values and add ``serving_examples``; TFX-style modules export ``serving_default`` on examples.
    """
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.core.framework import types_pb2

    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(saved_model_dir, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    signatures = saved_model.meta_graphs[0].signature_def
    for name in EXAMPLES_SIGNATURES:
        sig = signatures.get(name)
        if sig is not None and len(sig.inputs) == 1 and next(iter(sig.inputs.values())).dtype == types_pb2.DT_STRING:
            return name
    raise InputError(saved_model_dir, f"model needs a signature taking serialized tf.Examples for evaluation; "
                     f"looked for {', '.join(EXAMPLES_SIGNATURES)}", received=", ".join(sorted(signatures)))


def build(*, label_key: str, accuracy_threshold: float, slice_features: List[str], signature_name: str,
          eval_config_json: str = "") -> config_pb2.EvalConfig:
    """An EvalConfig: overall + per-feature slices, example count, accuracy with a lower bound."""
    if eval_config_json:
        config = config_pb2.EvalConfig()
        try:
            json_format.Parse(eval_config_json, config)
        except json_format.ParseError as e:
            raise InputError("evaluator", "not a valid TFMA EvalConfig in JSON", field="eval_config_json",
                             received=str(e)) from e
        for spec in config.model_specs:
            if not spec.signature_name:
                spec.signature_name = signature_name
        return config
    if not label_key:
        raise InputError("evaluator", "a label key is required", field="label_key", received="an empty string")
    if not 0.0 <= accuracy_threshold <= 1.0:
        raise InputError("evaluator", "must be between 0 and 1", field="accuracy_threshold",
                         received=str(accuracy_threshold))
    threshold = config_pb2.MetricThreshold(
        value_threshold=config_pb2.GenericValueThreshold(lower_bound={"value": accuracy_threshold})
    )
    return config_pb2.EvalConfig(
        model_specs=[config_pb2.ModelSpec(label_key=label_key, signature_name=signature_name)],
        slicing_specs=[config_pb2.SlicingSpec()]
        + [config_pb2.SlicingSpec(feature_keys=[feature]) for feature in slice_features],
        metrics_specs=[
            config_pb2.MetricsSpec(
                metrics=[
                    config_pb2.MetricConfig(class_name="ExampleCount"),
                    config_pb2.MetricConfig(class_name=ACCURACY_METRIC, threshold=threshold),
                ]
            )
        ],
    )
