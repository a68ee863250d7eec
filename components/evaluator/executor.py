"""Runs TFX's Evaluator executor on KFP artifact paths and reports the blessing."""

import os
from typing import Dict, Optional

from kfp.dsl import HTML, ClassificationMetrics, Input, Metrics, Output
from tfx.components.evaluator import executor as tfx_executor
from tfx.types import standard_component_specs as specs

from tfx_kfp.components import names
from tfx_kfp.components.types import Examples, Model, ModelBlessing, ModelEvaluation
from tfx_kfp.runtime import metadata, reports, tfx_bridge
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.components.evaluator import eval_config
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


def _overall_confusion_matrix(result) -> Optional[Dict]:
    """{"labels", "matrix"} from the overall slice's MultiClassConfusionMatrixPlot, if computed."""
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


def run(*, examples: Input[Examples], model: Input[Model], label_key: str, evaluation: Output[ModelEvaluation],
        blessing: Output[ModelBlessing], metrics: Output[Metrics], confusion_matrix: Output[ClassificationMetrics],
        report: Output[HTML], accuracy_threshold: float, slice_features: list, eval_config_json: str,
        beam_pipeline_args: list) -> bool:
    """The ``evaluator`` component's body (arguments as documented there).

    Evaluates, writes the evaluation, blessing and reports, logs metrics; returns whether blessed.
    """
    import tensorflow_model_analysis as tfma

    signature = eval_config.examples_signature(os.path.join(model.path, names.SERVING_MODEL_DIR))
    config = eval_config.build(
        label_key=label_key,
        accuracy_threshold=accuracy_threshold,
        slice_features=list(slice_features),
        signature_name=signature,
        eval_config_json=eval_config_json,
    )
    tfx_examples = tfx_bridge.to_tfx("Examples", examples)
    tfx_model = tfx_bridge.to_tfx("Model", model)
    with staged_dir(evaluation.path) as evaluation_dir, staged_dir(blessing.path) as blessing_dir:
        tfx_evaluation = tfx_bridge.to_tfx("ModelEvaluation", evaluation, uri=evaluation_dir)
        tfx_blessing = tfx_bridge.to_tfx("ModelBlessing", blessing, uri=blessing_dir)
        tfx_executor.Executor(tfx_bridge.beam_context(beam_pipeline_args)).Do(
            {specs.EXAMPLES_KEY: [tfx_examples], specs.MODEL_KEY: [tfx_model]},
            {specs.EVALUATION_KEY: [tfx_evaluation], specs.BLESSING_KEY: [tfx_blessing]},
            {
                specs.EVAL_CONFIG_KEY: tfx_bridge.proto_json(config),
                specs.EXAMPLE_SPLITS_KEY: tfx_bridge.to_json(["eval"]),
            },
        )
        blessed = os.path.exists(os.path.join(blessing_dir, names.BLESSED_FILE))
        result = tfma.load_eval_result(evaluation_dir)
        rows = _headline_metrics(result)
        matrix = _overall_confusion_matrix(result)
    blessing.metadata[names.META_BLESSED] = int(blessed)
    for slice_name, values in rows:
        for metric_name, value in sorted(values.items()):
            key = metric_name if slice_name == "Overall" else f"{metric_name} [{slice_name}]"
            metadata.log_finite_metric(metrics, key, value)
    if matrix:
        confusion_matrix.log_confusion_matrix(matrix["labels"], matrix["matrix"])
    overall = dict(rows[0][1]) if rows else {}
    reports.write_report(report, render_evaluation_html(
        blessed=blessed, overall=overall, per_slice=rows[1:],
        thresholds=eval_config.value_thresholds(config, overall), confusion_matrix=matrix,
    ))
    print(f"evaluator: {'BLESSED' if blessed else 'NOT BLESSED'}; overall "
          + ", ".join(f"{k}={v:.4f}" for k, v in sorted(overall.items())))
    return blessed
