"""Runs TFX's StatisticsGen executor on KFP artifact paths."""

from tfx.components.statistics_gen import executor as tfx_executor
from tfx.types import standard_component_specs as specs

from tfx_kfp.runtime import object_store, reports, tfx_bridge
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.reports import render_statistics_html


def run(*, examples, statistics, report, beam_pipeline_args):
    """Writes TFDV statistics for every split of ``examples`` to ``statistics.path``."""
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
    reports.write_report(report, render_statistics_html(reports.read_statistics(object_store.readable_path(statistics, beam_pipeline_args))))
    print(f"statistics_gen: statistics for splits {tfx_statistics.split_names} in {statistics.path}")
