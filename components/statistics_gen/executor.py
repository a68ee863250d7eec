"""Runs TFX's StatisticsGen executor on KFP artifact paths."""

import os

from kfp.dsl import HTML, Input, Output
from tfx.components.statistics_gen import executor as tfx_executor
from tfx.components.util import examples_utils
from tfx.types import artifact_utils
from tfx.types import standard_component_specs as specs
from tfx.utils import json_utils, stats_utils

from tfx_kfp.components.statistics_gen import fast_stats
from tfx_kfp.components.types import Examples, ExampleStatistics
from tfx_kfp.runtime import beam_defaults, object_store, reports, tfx_bridge
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.reports import render_statistics_html


def _write_without_beam(tfx_examples, tfx_statistics) -> bool:
    """TFX's statistics output computed by ``fast_stats`` (no Beam); False, with the reason printed and
    nothing written, where it does not apply (TFX's executor then runs instead)."""
    splits = artifact_utils.decode_split_names(tfx_examples.split_names)
    try:
        fast_stats.check_supported(tfx_examples.uri, splits, examples_utils.get_payload_format_string(tfx_examples))
        found = fast_stats.split_statistics(tfx_examples.uri, splits)
    except fast_stats.Unsupported as e:
        print(f"statistics_gen: TFX's StatisticsGen executor (Beam) computes these statistics: {e}", flush=True)
        return False
    # As TFX's StatisticsGen executor records them (TFX 1.16, no stats options, no exclude_splits).
    tfx_statistics.split_names = artifact_utils.encode_split_names(splits)
    tfx_statistics.span = tfx_examples.span
    tfx_statistics.set_string_custom_property(tfx_executor.STATS_DASHBOARD_LINK,
                                              stats_utils.generate_stats_dashboard_link(tfx_statistics))
    tfx_statistics.set_json_value_custom_property(tfx_executor.SAMPLE_RATE_BY_SPLIT_PROPERTY_NAME,
                                                  json_utils.dumps({split: 1.0 for split in splits}))
    for split, data in found.items():
        folder = artifact_utils.get_split_uri([tfx_statistics], split)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, tfx_executor.DEFAULT_FILE_NAME), "wb") as f:
            f.write(data)
    print(f"statistics_gen: TFDV's in-memory statistics of splits {splits}, no Beam "
          "(components/statistics_gen/fast_stats.py)", flush=True)
    return True


def run(*, examples: Input[Examples], statistics: Output[ExampleStatistics], report: Output[HTML],
        beam_pipeline_args: list) -> None:
    """The ``statistics_gen`` component's body (arguments as documented there).

    Writes TFDV statistics for every split of ``examples`` to ``statistics.path``.
    """
    without_beam = beam_defaults.rule_decides(beam_pipeline_args)
    beam_pipeline_args = beam_defaults.resolve(beam_pipeline_args, [examples.path], "examples")
    tfx_examples = tfx_bridge.to_tfx("Examples", examples, beam_pipeline_args=beam_pipeline_args)
    with staged_dir(statistics.path) as staging:
        tfx_statistics = tfx_bridge.to_tfx("ExampleStatistics", statistics, uri=staging,
                                           beam_pipeline_args=beam_pipeline_args)
        if not (without_beam and _write_without_beam(tfx_examples, tfx_statistics)):
            tfx_executor.Executor(tfx_bridge.beam_context(beam_pipeline_args)).Do(
                {specs.EXAMPLES_KEY: [tfx_examples]},
                {specs.STATISTICS_KEY: [tfx_statistics]},
                {specs.EXCLUDE_SPLITS_KEY: "[]"},
            )
    tfx_bridge.export_properties(tfx_statistics, statistics)
    statistics_dir = object_store.readable_path(statistics, beam_pipeline_args)
    reports.write_report(report, render_statistics_html(reports.read_statistics(statistics_dir)))
    print(f"statistics_gen: statistics for splits {tfx_statistics.split_names} in {statistics.path}")
