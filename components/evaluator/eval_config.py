"""Builds the TFMA EvalConfig from the evaluator's simple parameters."""

from typing import List, Optional

from google.protobuf import json_format
from tensorflow_model_analysis.proto import config_pb2

from tfx_kfp.runtime import arguments
from tfx_kfp.runtime.errors import InputError

ACCURACY_METRIC = "SparseCategoricalAccuracy"
CANDIDATE, BASELINE = "candidate", "baseline"
# TFX's examples bless a candidate that is at least as good as the baseline with an absolute change
# threshold of -1e-10 (higher is better): the tolerance keeps an equal value from failing on rounding.
CHANGE_TOLERANCE = 1e-10
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


def candidate_name(config: config_pb2.EvalConfig) -> str:
    return next(spec.name for spec in config.model_specs if not spec.is_baseline)


def with_baseline_model(config: config_pb2.EvalConfig) -> config_pb2.EvalConfig:
    """``config`` comparing a ``candidate`` with a ``baseline`` model (added when it has none)."""
    if any(spec.is_baseline for spec in config.model_specs):
        return config
    candidate = config.model_specs[0]
    candidate.name = candidate.name or CANDIDATE
    baseline = config.model_specs.add()
    baseline.CopyFrom(candidate)
    baseline.name, baseline.is_baseline = BASELINE, True
    return config


def build(*, label_key: str, accuracy_threshold: float, slice_features: List[str], signature_name: str,
          eval_config_json: str = "", has_baseline: bool = False,
          min_improvement: float = 0.0) -> config_pb2.EvalConfig:
    """An EvalConfig: overall + per-feature slices, example count, accuracy with a lower bound.

    With a baseline, a ``candidate`` and a ``baseline`` model, and accuracy must change by at least
    ``min_improvement`` (0: be at least as good). A user's ``eval_config_json`` keeps its own
    thresholds; it gets a baseline model spec when it has none.
    """
    config = _build(label_key=label_key, accuracy_threshold=accuracy_threshold, slice_features=slice_features,
                    signature_name=signature_name, eval_config_json=eval_config_json,
                    min_improvement=min_improvement)
    return with_baseline_model(config) if has_baseline else config


def _build(*, label_key, accuracy_threshold, slice_features, signature_name, eval_config_json,
           min_improvement) -> config_pb2.EvalConfig:
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
        value_threshold=config_pb2.GenericValueThreshold(lower_bound={"value": accuracy_threshold}),
        # Ignored without a baseline (TFX evaluates with rubber_stamp=True), as TFX does on a first run.
        change_threshold=config_pb2.GenericChangeThreshold(
            direction=config_pb2.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": min_improvement - CHANGE_TOLERANCE}),
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


def value_thresholds(config: config_pb2.EvalConfig, overall: dict, baseline_overall: Optional[dict] = None) -> list:
    """Every value/change threshold in ``config``, with the overall value it is judged on.

    Returns:
        Dicts ``{"metric", "kind", "threshold", "value", "passed"}``. A change threshold is judged on
        the candidate's value minus the baseline's; without a baseline TFMA does not apply it
        (reported as passed with no value, "no baseline").
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
                direction = config_pb2.MetricDirection.Name(change.direction).lower()
                base = (baseline_overall or {}).get(name)
                diff = value - base if value is not None and base is not None else None
                passed = diff is None or (diff >= change.absolute.value if direction.startswith("higher")
                                          else diff <= change.absolute.value)
                rows.append({"metric": name, "kind": "change", "threshold": change.absolute.value,
                             "value": diff, "passed": passed, "direction": direction})
    return rows
