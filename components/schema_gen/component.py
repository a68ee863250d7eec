"""SchemaGen and ImportSchema: the schema the rest of the pipeline validates against."""

from kfp import dsl
from kfp.dsl import Input, Markdown, Output

from tfx_kfp.components.types import ExampleStatistics, Schema
from tfx_kfp.components.image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def schema_gen(
    statistics: Input[ExampleStatistics],
    schema: Output[Schema],
    report: Output[Markdown],
    infer_feature_shape: bool = True,
):
    """Infers a schema from the statistics of every split.

    Args:
        statistics: TFDV statistics per split (TFX type ``ExampleStatistics``).
        infer_feature_shape: Infer fixed shapes for always-present features, so tf.Transform and the
            trainer see dense tensors.

    Returns:
        schema: The inferred ``schema.pbtxt`` (TFX type ``Schema``).
        report: The schema as a table: features, types, presence and domains.
    """
    from tfx_kfp.components.schema_gen import executor

    executor.infer(statistics=statistics, schema=schema, report=report, infer_feature_shape=infer_feature_shape)


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def import_schema(
    schema_pbtxt: str,
    schema: Output[Schema],
    report: Output[Markdown],
):
    """Imports a user's curated schema instead of inferring one.

    Args:
        schema_pbtxt: The text of a ``schema.pbtxt`` (a TFMD ``Schema`` in protobuf text format). It travels
            as a parameter, so it reaches cluster pods without rebuilding the image.

    Returns:
        schema: The validated ``schema.pbtxt`` (TFX type ``Schema``).
        report: The schema as a table: features, types, presence and domains.
    """
    from tfx_kfp.components.schema_gen import executor

    executor.import_text(schema_pbtxt=schema_pbtxt, schema=schema, report=report)
