"""Transform: tf.Transform on Apache Beam with the user's ``preprocessing_fn``."""

from kfp import dsl
from kfp.dsl import Input, Markdown, Output

from tfx_kfp.components.types import Examples, Schema, TransformGraph
from tfx_kfp.components.image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def transform(
    examples: Input[Examples],
    schema: Input[Schema],
    module_source: str,
    transform_graph: Output[TransformGraph],
    transformed_examples: Output[Examples],
    report: Output[Markdown],
    custom_config: str = "{}",
    beam_pipeline_args: list = [],
):
    """Analyzes the train split and transforms every split with the user's ``preprocessing_fn``.

    Args:
        examples: Split tf.Example TFRecords (TFX type ``Examples``).
        schema: The schema of the raw examples (TFX type ``Schema``).
        module_source: Python source of a TFX module file that defines ``preprocessing_fn(inputs)``
            (optionally taking ``custom_config``).
        custom_config: JSON object handed to ``preprocessing_fn`` as ``custom_config``.
        beam_pipeline_args: Apache Beam pipeline options; empty: the DirectRunner, in memory or multi-processing
            by the input's size and the cores (runtime/beam_defaults.py).
            Other runners (Flink, Spark, Dataflow) by their options, e.g. ``--runner=FlinkRunner``.

    Returns:
        transform_graph: The transform SavedModel and transformed metadata (TFX type ``TransformGraph``).
        transformed_examples: Transformed tf.Examples per split (TFX type ``Examples``).
        report: The output features of ``preprocessing_fn`` and their types.
    """
    from tfx_kfp.components.transform import executor

    executor.run(
        examples=examples,
        schema=schema,
        module_source=module_source,
        transform_graph=transform_graph,
        transformed_examples=transformed_examples,
        report=report,
        custom_config=custom_config,
        beam_pipeline_args=beam_pipeline_args,
    )
