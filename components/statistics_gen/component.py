"""StatisticsGen: TFDV statistics for every split of an Examples artifact."""

from kfp import dsl
from kfp.dsl import HTML, Input, Output

from tfx_kfp.components.types import Examples, ExampleStatistics
from tfx_kfp.components.image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def statistics_gen(
    examples: Input[Examples],
    statistics: Output[ExampleStatistics],
    report: Output[HTML],
    beam_pipeline_args: list = [],
):
    """Computes TFDV statistics per split.

    Args:
        examples: Split tf.Example TFRecords (TFX type ``Examples``).
        beam_pipeline_args: Apache Beam pipeline options; empty: the DirectRunner, in memory or multi-processing
            by the input's size and the cores (runtime/beam_defaults.py).

    Returns:
        statistics: ``Split-<name>/FeatureStats.pb`` per split (TFX type ``ExampleStatistics``).
        report: Per-feature statistics of every split side by side, with histograms (offline HTML).
    """
    from tfx_kfp.components.statistics_gen import executor

    executor.run(examples=examples, statistics=statistics, report=report, beam_pipeline_args=beam_pipeline_args)
