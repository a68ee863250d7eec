"""Runs TFX's Evaluator executor on KFP artifact paths and reports the blessing."""

import math
import os
from typing import Dict, List, Optional, Tuple

from kfp.dsl import HTML, ClassificationMetrics, Input, Metrics, Output
from tfx.components.evaluator import executor as tfx_executor
from tfx.types import standard_component_specs as specs

from tfx_kfp.components import names
from tfx_kfp.components.types import Examples, Model, ModelBlessing, ModelEvaluation
from tfx_kfp.components import model_failures
from tfx_kfp.runtime import beam_defaults, metadata, object_store, reports, tf_workarounds, tfx_bridge
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.components.evaluator import eval_config, model_fit
from tfx_kfp.reports import render_evaluation_html


def _slice_name(slice_key) -> str:
    return "Overall" if not slice_key else ", ".join(f"{k}={v}" for k, v in slice_key)


def _headline_metrics(result):
    """(slice name, {metric: value}) for every slice, overall first."""
    rows = []
    for slice_key, metrics_by_output in result.slicing_metrics:
        values = {}
        for by_class in (metrics_by_output or {}).values():
            for metric_name, value in by_class.get("", {}).items():
                number = value.get("doubleValue")
                if number is not None:
                    values[metric_name] = float(number)
        rows.append((_slice_name(slice_key), values))
    rows.sort(key=lambda row: row[0] != "Overall")
    return rows


def _binary_confusion_matrix(result) -> Optional[Dict]:
    """{"labels", "matrix"} from the overall slice's ConfusionMatrixAtThresholds (a metric) at its first threshold.

    Counts that are 0 are absent from TFMA's JSON form.
    """
    for slice_key, metrics_by_output in result.slicing_metrics or []:
        if slice_key:
            continue
        for by_class in (metrics_by_output or {}).values():
            for value in by_class.get("", {}).values():
                matrices = (value.get("confusionMatrixAtThresholds") or {}).get("matrices") \
                    if isinstance(value, dict) else None
                if matrices:
                    def count(key, matrix=matrices[0]):
                        return int(round(float(matrix.get(key, 0.0))))
                    return {"labels": ["0", "1"], "matrix": [[count("trueNegatives"), count("falsePositives")],
                                                             [count("falseNegatives"), count("truePositives")]]}
    return None


def _overall_confusion_matrix(result) -> Optional[Dict]:
    """{"labels", "matrix"} from the overall slice's binary (a metric) or multi-class (a plot) confusion matrix."""
    binary = _binary_confusion_matrix(result)
    if binary:
        return binary
    for slice_key, plots_by_output in result.plots or []:
        if slice_key:
            continue
        for by_class in (plots_by_output or {}).values():
            plot = by_class.get("", {}).get("multiClassConfusionMatrixAtThresholds")
            if not plot or not plot.get("matrices"):
                continue
            entries = plot["matrices"][0].get("entries", [])
            counts = {}
            for entry in entries:
                actual, predicted = int(entry.get("actualClassId", 0)), int(entry.get("predictedClassId", 0))
                if predicted >= 0:
                    counts[(actual, predicted)] = float(entry.get("numWeightedExamples", 0.0))
            classes = sorted({c for pair in counts for c in pair})
            return {"labels": [str(c) for c in classes],
                    "matrix": [[int(counts.get((a, p), 0)) for p in classes] for a in classes]}
    return None


def _has_baseline(baseline_model: Optional[Input[Model]]) -> bool:
    return (baseline_model is not None and metadata.flag(baseline_model.metadata or {}, names.META_BASELINE, True)
            and os.path.isdir(os.path.join(baseline_model.path, names.SERVING_MODEL_DIR)))


def _validation_failures(evaluation_dir: str) -> List[Tuple[str, bool, str]]:
    """(metric name, whether it is a change vs. the baseline, TFMA's message) for each failed threshold."""
    import tensorflow_model_analysis as tfma

    result = tfma.load_validation_result(evaluation_dir)
    return [(failure.metric_key.name, failure.metric_key.is_diff, failure.message)
            for per_slice in result.metric_validations_per_slice for failure in per_slice.failures]


def _judged(thresholds: List[Dict], failures: List[Tuple[str, bool, str]]) -> List[Dict]:
    """Thresholds marked failed exactly where TFMA's validation failed them."""
    failed = {(name, is_diff) for name, is_diff, _ in failures}
    return [dict(t, passed=(t["metric"], t["kind"] == "change") not in failed) for t in thresholds]


def run(*, examples: Input[Examples], model: Input[Model], label_key: str, evaluation: Output[ModelEvaluation],
        blessing: Output[ModelBlessing], metrics: Output[Metrics], confusion_matrix: Output[ClassificationMetrics],
        report: Output[HTML], baseline_model: Input[Model], accuracy_threshold: float,
        min_improvement: float, slice_features: list, eval_config_json: str, beam_pipeline_args: list) -> bool:
    """The ``evaluator`` component's body (arguments as documented there).

    Evaluates (against the baseline when there is one), writes the evaluation, blessing and reports,
    logs metrics; returns whether blessed.
    """
    import tensorflow_model_analysis as tfma

    from tfx_kfp.runtime.signatures import read_signatures

    has_baseline = _has_baseline(baseline_model)
    fit = model_fit.fit(read_signatures(os.path.join(model.path, names.SERVING_MODEL_DIR)), label_key,
                        signature_only=bool(eval_config_json))
    config = eval_config.build(
        label_key=label_key,
        accuracy_threshold=accuracy_threshold,
        slice_features=list(slice_features),
        model=fit,
        eval_config_json=eval_config_json,
        has_baseline=has_baseline,
        min_improvement=min_improvement,
    )
    beam_pipeline_args = beam_defaults.resolve(beam_pipeline_args, [examples.path], "examples", stage="evaluator")
    inputs = {specs.EXAMPLES_KEY: [tfx_bridge.to_tfx("Examples", examples, beam_pipeline_args=beam_pipeline_args)],
              specs.MODEL_KEY: [tfx_bridge.to_tfx("Model", model, beam_pipeline_args=beam_pipeline_args)]}
    if has_baseline:
        inputs[specs.BASELINE_MODEL_KEY] = [tfx_bridge.to_tfx("Model", baseline_model,
                                                              beam_pipeline_args=beam_pipeline_args)]
    with staged_dir(evaluation.path) as evaluation_dir, staged_dir(blessing.path) as blessing_dir, \
            tf_workarounds.not_autographed(), \
            model_failures.explained("evaluator", examples_path=examples.path):  # issue 18 item 3
        tfx_evaluation = tfx_bridge.to_tfx("ModelEvaluation", evaluation, uri=evaluation_dir,
                                           beam_pipeline_args=beam_pipeline_args)
        tfx_blessing = tfx_bridge.to_tfx("ModelBlessing", blessing, uri=blessing_dir,
                                         beam_pipeline_args=beam_pipeline_args)
        tfx_executor.Executor(tfx_bridge.beam_context(beam_pipeline_args)).Do(
            inputs,
            {specs.EVALUATION_KEY: [tfx_evaluation], specs.BLESSING_KEY: [tfx_blessing]},
            {
                specs.EVAL_CONFIG_KEY: tfx_bridge.proto_json(config),
                specs.EXAMPLE_SPLITS_KEY: tfx_bridge.to_json(["eval"]),
            },
        )
        if object_store.remote_uri(evaluation, beam_pipeline_args):  # written by remote workers: read a copy
            evaluation_dir = object_store.readable_path(evaluation, beam_pipeline_args)
            blessing_dir = object_store.readable_path(blessing, beam_pipeline_args)
        blessed = os.path.exists(os.path.join(blessing_dir, names.BLESSED_FILE))
        candidate_name = eval_config.candidate_name(config) if has_baseline else None
        rows = _headline_metrics(tfma.load_eval_result(evaluation_dir, model_name=candidate_name))
        baseline_rows = (_headline_metrics(tfma.load_eval_result(evaluation_dir, model_name=eval_config.BASELINE))
                         if has_baseline else [])
        matrix = _overall_confusion_matrix(tfma.load_eval_result(evaluation_dir, model_name=candidate_name))
        failures = _validation_failures(evaluation_dir)
    baseline_version = int(metadata.value(baseline_model.metadata, names.META_PUSHED_VERSION, 0)) if has_baseline else 0
    blessing.metadata.update({names.META_BLESSED: int(blessed), names.META_BASELINE_VERSION: baseline_version,
                              names.META_BLESSING_METRIC: eval_config.blessing_metric(config) or ""})
    if has_baseline:
        blessing.metadata[names.META_BASELINE_METRICS] = {
            k: v for k, v in dict(baseline_rows[0][1] if baseline_rows else {}).items() if math.isfinite(v)}
    for slice_name, values in rows:
        for metric_name, value in sorted(values.items()):
            key = metric_name if slice_name == "Overall" else f"{metric_name} [{slice_name}]"
            metadata.log_finite_metric(metrics, key, value)
    if matrix:
        confusion_matrix.log_confusion_matrix(matrix["labels"], matrix["matrix"])
    overall = dict(rows[0][1]) if rows else {}
    baseline_overall = dict(baseline_rows[0][1]) if baseline_rows else None
    comparison = {"version": baseline_version, "overall": baseline_overall, "per_slice": baseline_rows[1:]} \
        if has_baseline else None
    reports.write_report(report, render_evaluation_html(
        blessed=blessed, overall=overall, per_slice=rows[1:],
        thresholds=_judged(eval_config.value_thresholds(config, overall, baseline_overall), failures),
        confusion_matrix=matrix, baseline=comparison, failures=[message for _, _, message in failures],
    ))
    against = f"against served version {baseline_version}" if has_baseline else "no baseline (first push)"
    print(f"evaluator: {'BLESSED' if blessed else 'NOT BLESSED'} ({against}); overall "
          + ", ".join(f"{k}={v:.4f}" for k, v in sorted(overall.items())))
    for _, _, message in failures:
        print(f"evaluator: threshold failed: {message}")
    return blessed
