"""Evaluator: TFMA metrics on the eval split, and a blessing against a threshold."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, ClassificationMetrics, Input, Metrics, Output

from tfx_kfp.components.types import Examples, Model, ModelBlessing, ModelEvaluation
from tfx_kfp.components.image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def evaluator(
    examples: Input[Examples],
    model: Input[Model],
    label_key: str,
    evaluation: Output[ModelEvaluation],
    blessing: Output[ModelBlessing],
    metrics: Output[Metrics],
    confusion_matrix: Output[ClassificationMetrics],
    report: Output[HTML],
    accuracy_threshold: float = 0.6,
    slice_features: list = [],
    eval_config_json: str = "",
    beam_pipeline_args: list = [],
) -> NamedTuple("EvaluatorOutputs", [("blessed", bool)]):
    """Evaluates the model on the eval split with TFMA and blesses it if it meets the threshold.

    Args:
        examples: Raw tf.Examples per split; the ``eval`` split is evaluated (TFX type ``Examples``).
        model: The trained model (TFX type ``Model``).
        label_key: The label feature in the raw examples.
        accuracy_threshold: Lowest accepted overall ``SparseCategoricalAccuracy``.
        slice_features: Features to slice the metrics by, besides the overall slice.
        eval_config_json: A full TFMA ``EvalConfig`` as JSON for experts; when set it replaces
            ``label_key``, ``accuracy_threshold`` and ``slice_features``.
        beam_pipeline_args: Apache Beam pipeline options; empty means DirectRunner in multi-processing mode.

    Returns:
        evaluation: The TFMA evaluation result (TFX type ``ModelEvaluation``).
        blessing: ``BLESSED`` or ``NOT_BLESSED`` (TFX type ``ModelBlessing``; ``metadata['blessed']``).
        metrics: Overall and per-slice headline metrics.
        confusion_matrix: The overall confusion matrix (classifiers; empty when the EvalConfig has no
            ``MultiClassConfusionMatrixPlot``).
        report: The blessing decision with every threshold against its value, metrics per slice and the
            confusion matrix (offline HTML).
        blessed: Whether the model passed every threshold; gates the Pusher.
    """
    from tfx_kfp.components.evaluator import executor

    passed = executor.run(
        examples=examples,
        model=model,
        label_key=label_key,
        evaluation=evaluation,
        blessing=blessing,
        metrics=metrics,
        confusion_matrix=confusion_matrix,
        report=report,
        accuracy_threshold=accuracy_threshold,
        slice_features=slice_features,
        eval_config_json=eval_config_json,
        beam_pipeline_args=beam_pipeline_args,
    )
    outputs = NamedTuple("EvaluatorOutputs", [("blessed", bool)])
    return outputs(passed)
