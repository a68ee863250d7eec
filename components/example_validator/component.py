"""ExampleValidator: TFDV anomalies of each split against the schema."""

from kfp import dsl
from kfp.dsl import HTML, Input, Output

from tfx_kfp.components.types import ExampleAnomalies, ExampleStatistics, Schema
from tfx_kfp.components.image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def example_validator(
    statistics: Input[ExampleStatistics],
    schema: Input[Schema],
    anomalies: Output[ExampleAnomalies],
    report: Output[HTML],
    fail_on_anomalies: bool = True,
):
    """Validates the statistics of every split against the schema.

    Args:
        statistics: TFDV statistics per split (TFX type ``ExampleStatistics``).
        schema: The schema to validate against (TFX type ``Schema``).
        fail_on_anomalies: Fail the task, listing every anomaly (feature, kind, description), when any
            split has one; later stages then never run on bad data.

    Returns:
        anomalies: ``Split-<name>/SchemaDiff.pb`` per split (TFX type ``ExampleAnomalies``).
        report: Every anomaly (split, feature, kind, description), or a clear "No anomalies".
    """
    from tfx_kfp.components.example_validator import executor

    executor.run(statistics=statistics, schema=schema, anomalies=anomalies, report=report,
                 fail_on_anomalies=fail_on_anomalies)
