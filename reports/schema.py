"""Markdown report of a TFDV schema."""

from typing import Dict, List, Optional

from tensorflow_metadata.proto.v0 import schema_pb2

from tfx_kfp.reports import missing_values
from tfx_kfp.reports._markdown import md_escape, md_table

_DOMAIN_VALUES_SHOWN = 12


def type_name(feature: schema_pb2.Feature) -> str:
    """The feature's value type, e.g. ``INT``."""
    return schema_pb2.FeatureType.Name(feature.type)


def presence_text(feature: schema_pb2.Feature) -> str:
    """Required or optional, with the minimum share or count of examples."""
    if not feature.HasField("presence"):
        return "optional"
    presence = feature.presence
    if presence.min_fraction >= 1.0:
        text = "required"
    elif presence.min_fraction > 0:
        text = f"optional (in at least {presence.min_fraction * 100:.3g} % of examples)"
    else:
        text = "optional"
    if presence.min_count > 1:
        text += f", at least {presence.min_count} examples"
    return text


def shape_text(feature: schema_pb2.Feature) -> str:
    """The fixed shape, or the allowed number of values per example."""
    if feature.HasField("shape"):
        dims = [d.size for d in feature.shape.dim]
        if not dims:
            return "scalar"
        return "fixed shape [" + ", ".join(str(d) for d in dims) + "]"
    if feature.HasField("value_count"):
        low, high = feature.value_count.min, feature.value_count.max
        if low == high and low:
            return "exactly 1 value" if low == 1 else f"exactly {low} values"
        if high:
            return f"{low} to {high} values"
        return f"at least {low} values" if low else "any number of values"
    if feature.HasField("value_counts"):
        return f"nested, {len(feature.value_counts.value_count)} levels"
    return "any"


def _values_text(values: List[str]) -> str:
    shown = ", ".join(md_escape(v) for v in values[:_DOMAIN_VALUES_SHOWN])
    more = len(values) - _DOMAIN_VALUES_SHOWN
    return f"{len(values)} values: {shown}" + (f", … ({more} more)" if more > 0 else "")


def _range_text(kind: str, domain) -> str:
    low = domain.min if domain.HasField("min") else None
    high = domain.max if domain.HasField("max") else None
    if low is None and high is None:
        return f"any {kind}"
    return f"{kind} in [{'−∞' if low is None else f'{low:g}'}, {'∞' if high is None else f'{high:g}'}]"


def domain_text(feature: schema_pb2.Feature, string_domains: Dict[str, schema_pb2.StringDomain]) -> str:
    """The feature's domain as Markdown (values already escaped)."""
    which = feature.WhichOneof("domain_info")
    if which is None:
        return "—"
    if which == "domain":
        named = string_domains.get(feature.domain)
        name = md_escape(feature.domain)
        return f"{name}: {_values_text(list(named.value))}" if named else f"{name} (not defined)"
    if which == "string_domain":
        return _values_text(list(feature.string_domain.value))
    if which == "int_domain":
        text = _range_text("integer", feature.int_domain)
        return text + (", categorical" if feature.int_domain.is_categorical else "")
    if which == "float_domain":
        return _range_text("float", feature.float_domain)
    if which == "bool_domain":
        domain = feature.bool_domain
        values = [v for v in (domain.true_value, domain.false_value) if v]
        return "boolean" + (f" ({', '.join(md_escape(v) for v in values)})" if values else "")
    return which.replace("_", " ")


def _notes(feature: schema_pb2.Feature) -> str:
    notes = []
    if feature.lifecycle_stage not in (schema_pb2.UNKNOWN_STAGE, schema_pb2.PRODUCTION):
        notes.append(schema_pb2.LifecycleStage.Name(feature.lifecycle_stage).lower().replace("_", " "))
    if feature.deprecated:
        notes.append("deprecated")
    if feature.in_environment:
        notes.append("only in " + ", ".join(md_escape(e) for e in feature.in_environment))
    if feature.not_in_environment:
        notes.append("not in " + ", ".join(md_escape(e) for e in feature.not_in_environment))
    return "; ".join(notes)


NoValues = Dict[str, Dict[str, missing_values.NoValue]]


def _no_value_note(by_split: Dict[str, missing_values.NoValue]) -> str:
    return md_escape("no value in " + missing_values.counts_text(by_split))


def schema_feature_rows(schema: schema_pb2.Schema, without_values: Optional[NoValues] = None) -> List[List[str]]:
    """``[feature, type, presence, values, domain, notes]`` per feature, escaped."""
    string_domains = {d.name: d for d in schema.string_domain}
    without_values = without_values or {}
    return [
        [
            md_escape(f.name),
            type_name(f),
            presence_text(f),
            shape_text(f),
            domain_text(f, string_domains),
            "; ".join(n for n in (_notes(f), _no_value_note(without_values[f.name]) if f.name in without_values
                                  else "") if n),
        ]
        for f in schema.feature
    ]


def _no_value_lines(schema: schema_pb2.Schema, without_values: NoValues) -> List[str]:
    named = [f for f in schema.feature if f.name in without_values]
    if not named:
        return []
    lines = ["## Features with no value in some examples", ""]
    for feature in named:
        shape = "no fixed shape" if not feature.HasField("shape") else shape_text(feature)
        lines.append(f"- {md_escape(missing_values.describe(feature.name, without_values[feature.name]))}; "
                     f"the schema says {presence_text(feature)} (TFX counts an empty value list as present), "
                     f"{shape}.")
    return lines + ["", md_escape(missing_values.FILL_IN_MISSING_HINT) + ".", ""]


def render_schema_markdown(schema: schema_pb2.Schema, without_values: Optional[NoValues] = None) -> str:
    """Renders a schema as Markdown: one table row per feature.

    Args:
      schema: the schema (from ``schema_gen`` or ``import_schema``).
      without_values: feature -> split -> examples with no value in the statistics the schema was
        inferred from (``missing_values.features_without_values``); noted per feature, with what to do.

    Returns:
      Markdown with a title, a summary line and a table of features with their
      type, presence, number of values, domain and notes; sparse and weighted
      features follow in their own tables.
    """
    lines = ["# Schema", ""]
    count = len(schema.feature)
    summary = f"{count} feature{'s' if count != 1 else ''}"
    if schema.default_environment:
        summary += "; environments: " + ", ".join(md_escape(e) for e in schema.default_environment)
    lines += [summary + ".", ""]
    if count:
        headers = ["Feature", "Type", "Presence", "Values per example", "Domain", "Notes"]
        lines += [md_table(headers, schema_feature_rows(schema, without_values)), ""]
    lines += _no_value_lines(schema, without_values or {})
    if schema.sparse_feature:
        rows = [
            [md_escape(s.name), ", ".join(md_escape(i.name) for i in s.index_feature),
             md_escape(s.value_feature.name)]
            for s in schema.sparse_feature
        ]
        lines += ["## Sparse features", "", md_table(["Feature", "Index features", "Value feature"], rows), ""]
    if schema.weighted_feature:
        rows = [
            [md_escape(w.name), md_escape(".".join(w.feature.step)), md_escape(".".join(w.weight_feature.step))]
            for w in schema.weighted_feature
        ]
        lines += ["## Weighted features", "", md_table(["Feature", "Feature path", "Weight path"], rows), ""]
    return "\n".join(lines)
