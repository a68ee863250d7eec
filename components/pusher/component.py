"""Pusher: copies a blessed model into a TF Serving model base path, atomically."""

from kfp import dsl
from kfp.dsl import Input, Markdown, Metrics, Output

from tfx_kfp.components.types import InfraBlessing, Model, ModelBlessing, PushedModel
from tfx_kfp.components.image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def pusher(
    model: Input[Model],
    blessing: Input[ModelBlessing],
    serving_base_dir: str,
    pushed_model: Output[PushedModel],
    report: Output[Markdown],
    evaluation_metrics: Input[Metrics] = None,
    source_run: str = "",
    infra_blessing: Input[InfraBlessing] = None,
):
    """Pushes a blessed model to ``<serving_base_dir>/<numeric version>/`` for TF Serving.

    The version folder is built under a temporary name in ``serving_base_dir`` and renamed into
    place, so TF Serving never sees a half-written version. An unblessed model is never pushed,
    and pushing the same model again (a retried task) reuses its existing version.

    Args:
        model: The trained model; its ``Format-Serving`` SavedModel is pushed (TFX type ``Model``).
        blessing: The Evaluator's verdict (TFX type ``ModelBlessing``).
        serving_base_dir: The model base path TF Serving watches (a local or mounted path).
        evaluation_metrics: The Evaluator's metrics, kept in the push record for later comparisons.
        source_run: The run that produced the model (the pipeline passes its job name).
        infra_blessing: The InfraValidator's verdict (TFX type ``InfraBlessing``): the model is pushed only if
            it is blessed too, and its validated requests go into the version as
            ``assets.extra/tf_serving_warmup_requests``, which TF Serving replays on load.

    Returns:
        pushed_model: Where and whether the model was pushed (TFX type ``PushedModel``;
            ``metadata['pushed']``, ``['pushed_destination']``, ``['pushed_version']``,
            ``['replaced_version']``: the version served before, 0 if none). The pushed version also holds a
            push record (``assets.extra/tfx_kfp_push.json``: blessing, metrics, run, version replaced), where
            TF Serving never looks.
        report: The decision, the pushed path and version, and the model's serving signatures.
    """
    from tfx_kfp.components.pusher import executor

    executor.run(model=model, blessing=blessing, serving_base_dir=serving_base_dir, pushed_model=pushed_model,
                 report=report, evaluation_metrics=evaluation_metrics, source_run=source_run,
                 infra_blessing=infra_blessing)
