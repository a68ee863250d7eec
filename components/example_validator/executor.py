"""Runs TFX's ExampleValidator executor and turns anomalies into a readable failure."""

from typing import Dict, List, Tuple

from kfp.dsl import HTML, Input, Output
from tensorflow_metadata.proto.v0 import anomalies_pb2

from tfx_kfp.components.types import ExampleAnomalies, ExampleStatistics, Schema
from tfx_kfp.runtime import reports, tfx_bridge
from tfx_kfp.runtime.errors import AnomaliesFoundError
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.reports import missing_values, render_anomalies_html

ANOMALIES_FILE = "SchemaDiff.pb"


def read_anomalies(path: str) -> Dict[str, anomalies_pb2.Anomalies]:
    """Reads ``Split-<name>/SchemaDiff.pb`` files under ``path``."""
    return reports.read_split_protos(path, ANOMALIES_FILE, anomalies_pb2.Anomalies)


def anomaly_rows(by_split: Dict[str, anomalies_pb2.Anomalies]) -> List[Tuple[str, str, str, str]]:
    """(split, feature, anomaly kind, description) for every anomaly reason."""
    rows = []
    for split, found in by_split.items():
        for feature, info in sorted(found.anomaly_info.items()):
            for reason in info.reason or [None]:
                kind = anomalies_pb2.AnomalyInfo.Type.Name(reason.type) if reason else "UNKNOWN_TYPE"
                text = (reason.description if reason else "") or info.description or info.short_description
                rows.append((split, feature, kind, text))
        if found.HasField("dataset_anomaly_info"):
            info = found.dataset_anomaly_info
            for reason in info.reason:
                rows.append((split, "(dataset)", anomalies_pb2.AnomalyInfo.Type.Name(reason.type), reason.description))
    return rows


def format_anomalies(rows: List[Tuple[str, str, str, str]]) -> str:
    lines = [f"  - split {split!r}, feature {feature!r}: {kind}: {text}" for split, feature, kind, text in rows]
    return "\n".join(lines)


def run(*, statistics: Input[ExampleStatistics], schema: Input[Schema], anomalies: Output[ExampleAnomalies],
        report: Output[HTML], fail_on_anomalies: bool) -> None:
    """The ``example_validator`` component's body (arguments as documented there).

    Writes anomalies to ``anomalies.path``; raises AnomaliesFoundError when asked to.
    """
    from tfx.components.example_validator import executor as tfx_executor
    from tfx.types import standard_component_specs as specs

    tfx_statistics = tfx_bridge.to_tfx("ExampleStatistics", statistics)
    tfx_schema = tfx_bridge.to_tfx("Schema", schema)
    with staged_dir(anomalies.path) as staging:
        tfx_anomalies = tfx_bridge.to_tfx("ExampleAnomalies", anomalies, uri=staging)
        tfx_executor.Executor(tfx_bridge.plain_context()).Do(
            {specs.STATISTICS_KEY: [tfx_statistics], specs.SCHEMA_KEY: [tfx_schema]},
            {specs.ANOMALIES_KEY: [tfx_anomalies]},
            {specs.EXCLUDE_SPLITS_KEY: "[]"},
        )
        by_split = read_anomalies(staging)
        rows = anomaly_rows(by_split)
    without_values = missing_values.features_without_values(reports.read_statistics(statistics.path))
    tfx_bridge.export_properties(tfx_anomalies, anomalies)
    anomalies.metadata["anomaly_count"] = len(rows)
    reports.write_report(report, render_anomalies_html(by_split, without_values))
    for name, by_split_counts in without_values.items():  # not anomalies to TFX: said, not failed on
        print(f"example_validator: note: {missing_values.describe(name, by_split_counts)} "
              f"(blank cells?): {missing_values.FILL_IN_MISSING_HINT}")
    if rows and fail_on_anomalies:
        raise AnomaliesFoundError(
            f"example_validator: {len(rows)} anomalies found against the schema "
            f"(set fail_on_anomalies=False to continue anyway):\n{format_anomalies(rows)}"
        )
    print(f"example_validator: {len(rows)} anomalies" + (f":\n{format_anomalies(rows)}" if rows else ""))
