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
    # Not Optional[Input[Model]]: KFP 2.13's executor builds an input whose schema title it does not know
    # (on the backend, every input: the driver sends an instance schema) from the raw annotation, and
    # cannot instantiate Optional[...] (tests/unit/test_local_runs.py pins this).
    baseline_model: Input[Model] = None,
    accuracy_threshold: float = 0.6,
    min_improvement: float = 0.0,
    slice_features: list = [],
    eval_config_json: str = "",
    beam_pipeline_args: list = [],
) -> NamedTuple("EvaluatorOutputs", [("blessed", bool)]):
    """Evaluates the model on the eval split with TFMA and blesses it if it meets the thresholds.

    With a baseline (the model being served, from ``latest_pushed_model``) the candidate must also be
    at least as good as the baseline on the blessing metric (TFMA change thresholds); without one
    (a first run) only the absolute thresholds apply, as in TFX.

    Args:
        examples: Raw tf.Examples per split; the ``eval`` split is evaluated (TFX type ``Examples``).
        model: The trained model (TFX type ``Model``).
        label_key: The label feature in the raw examples.
        baseline_model: The model to compare with (TFX type ``Model``); none, or one whose
            ``metadata['baseline']`` is 0, means there is no baseline.
        accuracy_threshold: Lowest accepted overall accuracy: ``BinaryAccuracy`` for a model with one
            sigmoid score, ``SparseCategoricalAccuracy`` for one with a score per class (read from its
            signature on serialized tf.Examples).
        min_improvement: How much the candidate's accuracy must exceed the baseline's (0: at least as good;
            negative, e.g. -0.01: a tolerated regression).
        slice_features: Features to slice the metrics by, besides the overall slice.
        eval_config_json: A full TFMA ``EvalConfig`` as JSON for experts; when set it replaces
            ``label_key``, ``accuracy_threshold`` and ``slice_features``.
        beam_pipeline_args: Apache Beam pipeline options; empty: the DirectRunner, in memory or multi-processing
            by the input's size and the cores (runtime/beam_defaults.py).

    Returns:
        evaluation: The TFMA evaluation result (TFX type ``ModelEvaluation``).
        blessing: ``BLESSED`` or ``NOT_BLESSED`` (TFX type ``ModelBlessing``; ``metadata['blessed']``).
        metrics: Overall and per-slice headline metrics.
        confusion_matrix: The overall confusion matrix (classifiers: multi-class, or binary at 0.5;
            empty when the EvalConfig has neither ``MultiClassConfusionMatrixPlot`` nor
            ``ConfusionMatrixAtThresholds``).
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
        baseline_model=baseline_model,
        accuracy_threshold=accuracy_threshold,
        min_improvement=min_improvement,
        slice_features=slice_features,
        eval_config_json=eval_config_json,
        beam_pipeline_args=beam_pipeline_args,
    )
    outputs = NamedTuple("EvaluatorOutputs", [("blessed", bool)])
    return outputs(passed)
