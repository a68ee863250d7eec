"""Runs TFX's StatisticsGen executor on KFP artifact paths."""

from kfp.dsl import HTML, Input, Output
from tfx.components.statistics_gen import executor as tfx_executor
from tfx.types import standard_component_specs as specs

from tfx_kfp.components.types import Examples, ExampleStatistics
from tfx_kfp.runtime import beam_defaults, object_store, reports, tfx_bridge
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.reports import render_statistics_html


def run(*, examples: Input[Examples], statistics: Output[ExampleStatistics], report: Output[HTML],
        beam_pipeline_args: list) -> None:
    """The ``statistics_gen`` component's body (arguments as documented there).

    Writes TFDV statistics for every split of ``examples`` to ``statistics.path``.
    """
    beam_pipeline_args = beam_defaults.resolve(beam_pipeline_args, [examples.path], "examples")
    tfx_examples = tfx_bridge.to_tfx("Examples", examples, beam_pipeline_args=beam_pipeline_args)
    with staged_dir(statistics.path) as staging:
        tfx_statistics = tfx_bridge.to_tfx("ExampleStatistics", statistics, uri=staging,
                                           beam_pipeline_args=beam_pipeline_args)
        tfx_executor.Executor(tfx_bridge.beam_context(beam_pipeline_args)).Do(
            {specs.EXAMPLES_KEY: [tfx_examples]},
            {specs.STATISTICS_KEY: [tfx_statistics]},
            {specs.EXCLUDE_SPLITS_KEY: "[]"},
        )
    tfx_bridge.export_properties(tfx_statistics, statistics)
    statistics_dir = object_store.readable_path(statistics, beam_pipeline_args)
    reports.write_report(report, render_statistics_html(reports.read_statistics(statistics_dir)))
    print(f"statistics_gen: statistics for splits {tfx_statistics.split_names} in {statistics.path}")
