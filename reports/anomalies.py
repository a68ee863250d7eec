"""HTML report of TFDV validation results (anomalies) per split."""

from typing import Dict, List, Optional

from tensorflow_metadata.proto.v0 import anomalies_pb2

from tfx_kfp.reports import missing_values
from tfx_kfp.reports._html import Html, document, esc, format_number, join, num_cell, table, tag

_DATASET_FEATURE = "(whole split)"


def _kind(reason: anomalies_pb2.AnomalyInfo.Reason) -> Html:
    code = anomalies_pb2.AnomalyInfo.Type.Name(reason.type) if reason.type else ""
    title = reason.short_description or code.replace("_", " ").capitalize() or "Anomaly"
    if not code:
        return esc(title)
    return Html(esc(title) + "<br>" + tag("span", code, class_="muted small"))


def _severity(info: anomalies_pb2.AnomalyInfo) -> str:
    name = anomalies_pb2.AnomalyInfo.Severity.Name(info.severity)
    return name.capitalize() if info.severity else "—"


def _rows_for(feature: str, info: anomalies_pb2.AnomalyInfo) -> List[List[object]]:
    reasons = list(info.reason) or [
        anomalies_pb2.AnomalyInfo.Reason(short_description=info.short_description, description=info.description)
    ]
    return [[feature, _kind(r), r.description or info.description, _severity(info)] for r in reasons]


def anomaly_rows(anomalies: anomalies_pb2.Anomalies) -> List[List[object]]:
    """One ``[feature, kind, description, severity]`` row per anomaly reason."""
    rows: List[List[object]] = []
    if anomalies.data_missing:
        rows.append([_DATASET_FEATURE, "Data missing", "The split contains no examples.", "Error"])
    if anomalies.HasField("dataset_anomaly_info"):
        rows.extend(_rows_for(_DATASET_FEATURE, anomalies.dataset_anomaly_info))
    for feature in sorted(anomalies.anomaly_info):
        rows.extend(_rows_for(feature, anomalies.anomaly_info[feature]))
    return rows


def _drift_skew_table(anomalies: anomalies_pb2.Anomalies, split: str) -> Html:
    rows = []
    for info in anomalies.drift_skew_info:
        feature = ".".join(info.path.step)
        for kind, measurements in (("Drift", info.drift_measurements), ("Skew", info.skew_measurements)):
            for measurement in measurements:
                name = anomalies_pb2.DriftSkewInfo.Measurement.Type.Name(measurement.type)
                exceeded = measurement.value > measurement.threshold
                result = tag("td", "Exceeds threshold" if exceeded else "Within threshold",
                             class_="fail" if exceeded else "pass")
                rows.append([feature, f"{kind}: {name.replace('_', ' ').lower()}",
                             num_cell(measurement.value), num_cell(measurement.threshold), result])
    if not rows:
        return Html("")
    return table(["Feature", "Measurement", "Value", "Threshold", "Result"], rows,
                 caption=f"Drift and skew measurements, {split}")


def _no_value_section(without_values: Dict[str, Dict[str, missing_values.NoValue]]) -> List[Html]:
    if not without_values:
        return []
    items = [tag("li", missing_values.describe(name, by_split) + ".") for name, by_split in without_values.items()]
    return [tag("div", Html(
        tag("p", "Not an anomaly to TFX (its schema counts an empty value list as present), but "
                 f"{len(without_values)} feature{'s have' if len(without_values) != 1 else ' has'} no value in "
                 "some examples:")
        + tag("ul", join(items)) + tag("p", missing_values.FILL_IN_MISSING_HINT + ".", class_="small")),
        class_="status warn", role="note")]


def render_anomalies_html(anomalies_by_split: Dict[str, anomalies_pb2.Anomalies],
                          without_values: Optional[Dict[str, Dict[str, missing_values.NoValue]]] = None) -> str:
    """Renders validation results of one or more splits as one HTML page.

    Each anomaly gets a row with its feature, kind, description and severity.
    A split without anomalies, and a run without any, say so in words.

    Args:
      anomalies_by_split: TFDV ``Anomalies`` per split name, in display order.
      without_values: feature -> split -> examples with no value in the validated statistics
        (``missing_values.features_without_values``): listed after the banner, with what to do.

    Returns:
      A self-contained HTML page (no scripts, no external resources).
    """
    splits = list(anomalies_by_split)
    rows_by_split = {split: anomaly_rows(anomalies_by_split[split]) for split in splits}
    total = sum(len(rows) for rows in rows_by_split.values())
    split_list = ", ".join(splits) if splits else "no splits"
    if total == 0:
        banner = tag("p", Html("&#10003; No anomalies found in " + esc(split_list) + "."),
                     class_="status good", role="status")
    else:
        affected = [split for split in splits if rows_by_split[split]]
        banner = tag(
            "p",
            Html(f"&#9888; {esc(format_number(total))} anomal{'y' if total == 1 else 'ies'} found in "
                 + esc(", ".join(affected)) + "."),
            class_="status bad",
            role="status",
        )
    body: List[object] = [tag("h1", "Data validation"), banner, *_no_value_section(without_values or {})]
    for split in splits:
        rows = rows_by_split[split]
        body.append(tag("h2", f"Split: {split}"))
        if rows:
            body.append(table(["Feature", "Kind", "Description", "Severity"], rows,
                              caption=f"Anomalies in {split} ({len(rows)})"))
        else:
            body.append(tag("p", Html("&#10003; No anomalies in " + esc(split) + "."), class_="pass"))
        body.append(_drift_skew_table(anomalies_by_split[split], split))
    title = "Data validation: " + ("no anomalies" if total == 0 else f"{total} anomalies")
    return document(title, join(body))
