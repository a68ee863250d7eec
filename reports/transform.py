"""Markdown summary of the features a Transform stage outputs."""

from typing import List, Optional

from tensorflow_metadata.proto.v0 import schema_pb2

from tfx_kfp.reports._markdown import md_escape, md_table
from tfx_kfp.reports.schema import presence_text, shape_text, type_name


def _origin(feature: schema_pb2.Feature, input_schema: schema_pb2.Schema) -> str:
    inputs = {f.name: f for f in input_schema.feature}
    source = inputs.get(feature.name)
    if source is None:
        return "new"
    if source.type != feature.type:
        return f"from input, type changed ({type_name(source)} → {type_name(feature)})"
    return "from input, same type"


def render_transform_markdown(
    output_schema: schema_pb2.Schema, input_schema: Optional[schema_pb2.Schema] = None
) -> str:
    """Renders the Transform output features and their types as Markdown.

    Args:
      output_schema: schema of the transformed data (``transformed_metadata``).
      input_schema: schema of the raw data; when given, each output feature says
        whether it is new or comes from an input feature, and input features the
        transform drops are listed.

    Returns:
      Markdown with a title, a summary and a table of output features.
    """
    features = list(output_schema.feature)
    lines = ["# Transform output", ""]
    summary = f"{len(features)} output feature{'s' if len(features) != 1 else ''}"
    if input_schema is not None:
        summary += f" from {len(input_schema.feature)} input feature{'s' if len(input_schema.feature) != 1 else ''}"
    lines += [summary + ".", ""]
    headers = ["Feature", "Type", "Shape", "Presence"]
    if input_schema is not None:
        headers.append("Origin")
    rows: List[List[str]] = []
    for feature in features:
        row = [md_escape(feature.name), type_name(feature), shape_text(feature), presence_text(feature)]
        if input_schema is not None:
            row.append(_origin(feature, input_schema))
        rows.append(row)
    if rows:
        lines += [md_table(headers, rows), ""]
    if input_schema is not None:
        output_names = {f.name for f in features}
        dropped = [f.name for f in input_schema.feature if f.name not in output_names]
        if dropped:
            lines += ["## Input features not in the output", ""]
            lines += [f"- {md_escape(name)} ({type_name(f)})" for f in input_schema.feature
                      for name in [f.name] if name in dropped]
            lines.append("")
    for sparse in output_schema.sparse_feature:
        lines.append(f"Sparse output feature: {md_escape(sparse.name)}.")
    return "\n".join(lines).rstrip("\n") + "\n"
