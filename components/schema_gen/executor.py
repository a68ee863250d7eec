"""Runs TFX's SchemaGen executor, or validates and writes an imported schema."""

import os

from google.protobuf import text_format
from kfp.dsl import Input, Markdown, Output
from tensorflow_metadata.proto.v0 import schema_pb2

from tfx_kfp.components import names
from tfx_kfp.components.types import ExampleStatistics, Schema
from tfx_kfp.runtime import reports, tfx_bridge
from tfx_kfp.runtime.errors import InputError
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.reports import missing_values, render_schema_markdown

SCHEMA_FILE = "schema.pbtxt"


def infer(*, statistics: Input[ExampleStatistics], schema: Output[Schema], report: Output[Markdown],
          infer_feature_shape: bool) -> None:
    """The ``schema_gen`` component's body (arguments as documented there).

    Infers a schema from ``statistics.path`` into ``schema.path``.
    """
    from tfx.components.schema_gen import executor as tfx_executor
    from tfx.types import standard_component_specs as specs

    tfx_statistics = tfx_bridge.to_tfx("ExampleStatistics", statistics)
    with staged_dir(schema.path) as staging:
        tfx_schema = tfx_bridge.to_tfx("Schema", schema, uri=staging)
        tfx_executor.Executor(tfx_bridge.plain_context()).Do(
            {specs.STATISTICS_KEY: [tfx_statistics]},
            {specs.SCHEMA_KEY: [tfx_schema]},
            {specs.INFER_FEATURE_SHAPE_KEY: int(infer_feature_shape), specs.EXCLUDE_SPLITS_KEY: "[]"},
        )
    without_values = missing_values.features_without_values(reports.read_statistics(statistics.path))
    _write_report(report, reports.read_schema(schema.path), without_values)
    schema.metadata[names.META_FEATURES_WITHOUT_VALUES] = sorted(without_values)
    print(f"schema_gen: inferred schema written to {os.path.join(schema.path, SCHEMA_FILE)}"
          + "".join(f"\nschema_gen: note: {missing_values.describe(name, by_split)}"
                    for name, by_split in without_values.items()))


def parse_schema(text: str, source: str = "schema_pbtxt") -> schema_pb2.Schema:
    """Parses a text-format schema; raises InputError naming the line that failed."""
    if not text or not text.strip():
        raise InputError(source, "schema text is empty: expected a TFMD Schema in protobuf text format")
    parsed = schema_pb2.Schema()
    try:
        text_format.Parse(text, parsed)
    except text_format.ParseError as e:
        raise InputError(source, "not a valid TFMD Schema in protobuf text format", received=str(e)) from e
    if not parsed.feature and not parsed.sparse_feature:
        raise InputError(source, "schema declares no features")
    return parsed


def _write_report(report, parsed: schema_pb2.Schema, without_values=None) -> None:
    reports.write_report(report, render_schema_markdown(parsed, without_values))


def import_text(*, schema_pbtxt: str, schema: Output[Schema], report: Output[Markdown]) -> None:
    """The ``import_schema`` component's body (arguments as documented there).

    Validates ``schema_pbtxt`` and writes it as ``schema.path/schema.pbtxt``.
    """
    parsed = parse_schema(schema_pbtxt)
    with staged_dir(schema.path) as staging:
        with open(os.path.join(staging, SCHEMA_FILE), "w") as f:
            f.write(text_format.MessageToString(parsed))
    _write_report(report, parsed)
    print(f"import_schema: {len(parsed.feature)} features written to {os.path.join(schema.path, SCHEMA_FILE)}")
