"""Trainer: the user's ``run_fn(fn_args)`` on transformed examples."""

from kfp import dsl
from kfp.dsl import HTML, Input, Metrics, Output

from tfx_kfp.components.types import Examples, Model, ModelRun, Schema, TransformGraph
from tfx_kfp.components.image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def trainer(
    examples: Input[Examples],
    transform_graph: Input[TransformGraph],
    schema: Input[Schema],
    module_source: str,
    model: Output[Model],
    model_run: Output[ModelRun],
    metrics: Output[Metrics],
    report: Output[HTML],
    train_steps: int = 100,
    eval_steps: int = 5,
    custom_config: str = "{}",
):
    """Trains a model with the user's ``run_fn(fn_args)``, exactly as TFX's Trainer calls it.

    Args:
        examples: Transformed tf.Examples per split (TFX type ``Examples``).
        transform_graph: The tf.Transform output, for ``fn_args.transform_output`` (TFX type ``TransformGraph``).
        schema: The raw data schema, for ``fn_args.schema_path`` (TFX type ``Schema``).
        module_source: Python source of a TFX module file that defines ``run_fn(fn_args)``.
        train_steps: ``fn_args.train_steps``.
        eval_steps: ``fn_args.eval_steps``.
        custom_config: JSON object handed to ``run_fn`` as ``fn_args.custom_config``.

    Returns:
        model: The trained model; the servable SavedModel is under ``Format-Serving`` (TFX type ``Model``).
        model_run: TensorBoard logs of the run (TFX type ``ModelRun``).
        metrics: Final training and evaluation loss and metrics, read from the TensorBoard logs.
        report: Loss and metric curves per epoch (offline HTML), when the module logs to TensorBoard.
    """
    from tfx_kfp.components.trainer import executor

    executor.run(
        examples=examples,
        transform_graph=transform_graph,
        schema=schema,
        module_source=module_source,
        model=model,
        model_run=model_run,
        metrics=metrics,
        report=report,
        train_steps=train_steps,
        eval_steps=eval_steps,
        custom_config=custom_config,
    )
