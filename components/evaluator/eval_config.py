"""Builds the TFMA EvalConfig from the evaluator's simple parameters."""

from typing import List

from google.protobuf import json_format
from tensorflow_model_analysis.proto import config_pb2

from tfx_kfp.runtime import arguments
from tfx_kfp.runtime.errors import InputError

ACCURACY_METRIC = "SparseCategoricalAccuracy"
CONFUSION_MATRIX_PLOT = "MultiClassConfusionMatrixPlot"
EXAMPLES_SIGNATURES = ("serving_examples", "serving_default")


def examples_signature(saved_model_dir: str) -> str:
    """The first signature that takes a single string tensor (serialized tf.Examples).

    TFMA feeds serialized examples. Our exported models keep ``serving_default`` for raw feature
    values and add ``serving_examples``; TFX-style modules export ``serving_default`` on examples.
    """
    from tfx_kfp.runtime.signatures import read_signatures

    signatures = read_signatures(saved_model_dir)
    for name in EXAMPLES_SIGNATURES:
        inputs = signatures.get(name, {}).get("inputs", {})
        if len(inputs) == 1 and next(iter(inputs.values()))["dtype"] == "string":
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
    arguments.check_fraction("evaluator", "accuracy_threshold", accuracy_threshold)
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
                    config_pb2.MetricConfig(class_name=CONFUSION_MATRIX_PLOT),
                ]
            )
        ],
    )


def _metric_name(metric: config_pb2.MetricConfig) -> str:
    import json
    import re

    if metric.config:
        name = json.loads(metric.config).get("name")
        if name:
            return name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", metric.class_name).lower()


def value_thresholds(config: config_pb2.EvalConfig, overall: dict) -> list:
    """Every value/change threshold in ``config``, with the overall value it is judged on.

    Returns:
        Dicts ``{"metric", "kind", "threshold", "value", "passed"}``; a change threshold has no
        baseline model here, so TFMA does not apply it (reported as passed with no value).
    """
    rows = []
    for spec in config.metrics_specs:
        for metric in spec.metrics:
            if not metric.HasField("threshold"):
                continue
            name = _metric_name(metric)
            value = overall.get(name)
            bounds = metric.threshold.value_threshold
            for kind, field in (("lower_bound", "lower_bound"), ("upper_bound", "upper_bound")):
                if metric.threshold.HasField("value_threshold") and bounds.HasField(field):
                    limit = getattr(bounds, field).value
                    ok = value is not None and (value >= limit if kind == "lower_bound" else value <= limit)
                    rows.append({"metric": name, "kind": kind, "threshold": limit, "value": value, "passed": ok})
            if metric.threshold.HasField("change_threshold"):
                change = metric.threshold.change_threshold
                rows.append({"metric": name, "kind": "change", "threshold": change.absolute.value,
                             "value": None, "passed": True,
                             "direction": config_pb2.MetricDirection.Type.Name(change.direction).lower()})
    return rows
