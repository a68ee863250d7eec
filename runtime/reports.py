"""Writes a stage's visual output (system.HTML / system.Markdown) and reads TFX outputs for it."""

import os
from typing import Dict

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from tfx_kfp.runtime.staging import write_file

STATISTICS_FILE = "FeatureStats.pb"
SCHEMA_FILE = "schema.pbtxt"


def write_report(artifact, text: str) -> None:
    """Writes ``text`` to ``artifact.path`` atomically."""
    write_file(artifact.path, text)


def read_split_protos(path: str, file_name: str, proto_class) -> Dict[str, object]:
    """Parses ``Split-<name>/<file_name>`` under ``path`` into ``proto_class``, by split name."""
    result = {}
    for entry in sorted(os.listdir(path)):
        file = os.path.join(path, entry, file_name)
        if entry.startswith("Split-") and os.path.exists(file):
            message = proto_class()
            with open(file, "rb") as f:
                message.ParseFromString(f.read())
            result[entry[len("Split-"):]] = message
    return result


def read_statistics(path: str) -> Dict[str, statistics_pb2.DatasetFeatureStatisticsList]:
    """``Split-<name>/FeatureStats.pb`` under ``path``, by split name."""
    return read_split_protos(path, STATISTICS_FILE, statistics_pb2.DatasetFeatureStatisticsList)


def read_schema(path: str) -> schema_pb2.Schema:
    """The ``schema.pbtxt`` in folder ``path`` (or the file itself)."""
    file = path if path.endswith(".pbtxt") else os.path.join(path, SCHEMA_FILE)
    with open(file) as f:
        return text_format.Parse(f.read(), schema_pb2.Schema())
