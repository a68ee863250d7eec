"""Builds the TFMA EvalConfig from the evaluator's simple parameters and what the model is."""

import json
import re
from typing import List, Optional

from tfx_kfp.components.evaluator.model_fit import BINARY, ModelFit
from tfx_kfp.runtime import arguments, tfma_protos
from tfx_kfp.runtime.errors import InputError

config_pb2 = tfma_protos.config_pb2()  # TFMA's own proto module, without importing TFMA (and TensorFlow)

CANDIDATE, BASELINE = "candidate", "baseline"
# TFX's examples bless a candidate that is at least as good as the baseline with an absolute change
# threshold of -1e-10 (higher is better): the tolerance keeps an equal value from failing on rounding.
CHANGE_TOLERANCE = 1e-10
# The accuracy metric and the confusion matrix of each kind of classifier (TFMA class names).
ACCURACY_METRICS = {BINARY: "BinaryAccuracy", "multi-class": "SparseCategoricalAccuracy"}
CONFUSION_MATRIX_PLOT = "MultiClassConfusionMatrixPlot"
BINARY_CONFUSION_MATRIX = "ConfusionMatrixAtThresholds"
BINARY_THRESHOLD = 0.5  # BinaryAccuracy's own threshold: the confusion matrix counts what accuracy counts


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


def build(*, label_key: str, accuracy_threshold: float, slice_features: List[str], model: ModelFit,
          eval_config_json: str = "", has_baseline: bool = False,
          min_improvement: float = 0.0) -> config_pb2.EvalConfig:
    """An EvalConfig: overall + per-feature slices, example count, accuracy with a lower bound.

    The accuracy metric and confusion matrix fit ``model`` (binary or multi-class); the label is the
    one the model was trained on. With a baseline, a ``candidate`` and a ``baseline`` model, and
    accuracy must change by at least ``min_improvement`` (0: be at least as good; negative: a
    tolerated regression). A user's ``eval_config_json`` keeps its own thresholds; it gets a
    baseline model spec when it has none.
    """
    if eval_config_json:
        config = tfma_protos.parse_eval_config("evaluator", eval_config_json)
        for spec in config.model_specs:
            if not spec.signature_name:
                spec.signature_name = model.signature_name
    else:
        config = _default(label_key=label_key, accuracy_threshold=accuracy_threshold,
                          slice_features=slice_features, model=model, min_improvement=min_improvement)
    return with_baseline_model(config) if has_baseline else config


def _default(*, label_key, accuracy_threshold, slice_features, model: ModelFit,
             min_improvement) -> config_pb2.EvalConfig:
    if not label_key:
        raise InputError("evaluator", "a label key is required", field="label_key", received="an empty string")
    arguments.check_fraction("evaluator", "accuracy_threshold", accuracy_threshold)
    arguments.check_change("evaluator", "min_improvement", min_improvement)
    threshold = config_pb2.MetricThreshold(
        value_threshold=config_pb2.GenericValueThreshold(lower_bound={"value": accuracy_threshold}),
        # Ignored without a baseline (TFX evaluates with rubber_stamp=True), as TFX does on a first run.
        change_threshold=config_pb2.GenericChangeThreshold(
            direction=config_pb2.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": min_improvement - CHANGE_TOLERANCE}),
    )
    if model.kind == BINARY:
        matrix = config_pb2.MetricConfig(class_name=BINARY_CONFUSION_MATRIX,
                                         config=json.dumps({"thresholds": [BINARY_THRESHOLD]}))
    else:
        matrix = config_pb2.MetricConfig(class_name=CONFUSION_MATRIX_PLOT)
    spec = config_pb2.ModelSpec(label_key=model.label_key, signature_name=model.signature_name)
    if model.preprocessing_function:
        spec.preprocessing_function_names.append(model.preprocessing_function)
    return config_pb2.EvalConfig(
        model_specs=[spec],
        slicing_specs=[config_pb2.SlicingSpec()]
        + [config_pb2.SlicingSpec(feature_keys=[feature]) for feature in slice_features],
        metrics_specs=[config_pb2.MetricsSpec(metrics=[
            config_pb2.MetricConfig(class_name="ExampleCount"),
            config_pb2.MetricConfig(class_name=ACCURACY_METRICS[model.kind], threshold=threshold),
            matrix,
        ])],
    )


def metric_name(metric: config_pb2.MetricConfig) -> str:
    """The name TFMA reports a metric under: its config's ``name``, else its class name in snake case."""
    if metric.config:
        name = json.loads(metric.config).get("name")
        if name:
            return name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", metric.class_name).lower()


def blessing_metric(config: config_pb2.EvalConfig) -> Optional[str]:
    """The first metric with a threshold: the one a run's summary line shows."""
    return next((metric_name(metric) for spec in config.metrics_specs for metric in spec.metrics
                 if metric.HasField("threshold")), None)


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
            name = metric_name(metric)
            value = overall.get(name)
            bounds = metric.threshold.value_threshold
            for kind in ("lower_bound", "upper_bound"):
                if metric.threshold.HasField("value_threshold") and bounds.HasField(kind):
                    limit = getattr(bounds, kind).value
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
