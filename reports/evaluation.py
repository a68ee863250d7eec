"""HTML report of a model evaluation: blessing decision, thresholds, metrics."""

from typing import Dict, List, Optional, Sequence, Tuple

from tfx_kfp.reports._html import Html, document, esc, format_number, join, num_cell, table, tag

_CSS = """
.decision { font-size: 20px; }
table.confusion td.num { min-width: 56px; }
"""

_KIND_TEXT = {
    "lower_bound": "at least",
    "upper_bound": "at most",
    "change": "change vs. baseline at least",
}


def _threshold_rule(threshold: Dict) -> str:
    kind = threshold.get("kind", "")
    value = format_number(threshold.get("threshold"))
    if kind == "change":
        direction = str(threshold.get("direction", "")).lower()
        if direction.startswith("lower"):
            return f"change vs. baseline at most {value} (lower is better)"
        if direction.startswith("higher"):
            return f"change vs. baseline at least {value} (higher is better)"
        return f"change vs. baseline within {value}"
    return f"{_KIND_TEXT.get(kind, kind.replace('_', ' '))} {value}"


def _result_cell(passed: bool) -> Html:
    if passed:
        return tag("td", Html("&#10003; Pass"), class_="pass")
    return tag("td", Html("&#10007; Fail"), class_="fail")


def thresholds_table(thresholds: Sequence[Dict]) -> Html:
    """Thresholds with their rule, the measured value and pass/fail in words."""
    rows = [
        [t.get("metric", "?"), _threshold_rule(t), num_cell(t.get("value")), _result_cell(bool(t.get("passed")))]
        for t in thresholds
    ]
    return table(["Metric", "Rule", "Value", "Result"], rows, caption="Thresholds against the values")


def metrics_table(metrics: Dict[str, float], caption: str) -> Html:
    """A two-column table: metric name, value."""
    return table(["Metric", "Value"], [[name, num_cell(value)] for name, value in metrics.items()], caption=caption)


def comparison_table(overall: Dict[str, float], baseline_overall: Dict[str, float],
                     per_slice: Sequence[Tuple[str, Dict[str, float]]],
                     baseline_per_slice: Sequence[Tuple[str, Dict[str, float]]]) -> Html:
    """Per slice and metric: the candidate's value, the baseline's, and the change."""
    baseline_by_slice = dict(baseline_per_slice)
    rows = []
    for slice_name, metrics, base in [("Overall", overall, baseline_overall)] + [
            (name, metrics, baseline_by_slice.get(name, {})) for name, metrics in per_slice]:
        for metric, value in metrics.items():
            reference = base.get(metric)
            change = value - reference if value is not None and reference is not None else None
            rows.append([slice_name, metric, num_cell(value), num_cell(reference), num_cell(change)])
    return table(["Slice", "Metric", "Candidate", "Baseline", "Change"], rows,
                 caption="Candidate against the served baseline")


def _per_slice_table(per_slice: Sequence[Tuple[str, Dict[str, float]]]) -> Html:
    names: List[str] = []
    for _, metrics in per_slice:
        names.extend(n for n in metrics if n not in names)
    rows = [[slice_name] + [num_cell(metrics.get(n)) for n in names] for slice_name, metrics in per_slice]
    return table(["Slice"] + names, rows, caption="Metrics per slice")


def confusion_matrix_table(labels: Sequence[str], matrix: Sequence[Sequence[float]]) -> Html:
    """A confusion matrix (rows actual, columns predicted).

    Cells are shaded by their share of the row, and always show the count and
    that share as text. A last column gives each class's recall.
    """
    header = ["Actual \\ predicted"] + [str(label) for label in labels] + ["Total", "Recall"]
    rows = []
    for row_index, label in enumerate(labels):
        row = list(matrix[row_index]) if row_index < len(matrix) else []
        total = sum(row)
        cells: List[object] = [str(label)]
        for col_index, count in enumerate(row):
            share = count / total if total else 0.0
            alpha = 0.08 + 0.6 * share if count else 0.0
            colour = "0, 114, 178" if col_index == row_index else "213, 94, 0"
            text_colour = "#fff" if alpha > 0.45 else "#1b1f24"
            cells.append(
                Html(
                    f'<td class="num" style="background:rgba({colour},{alpha:.2f});color:{text_colour}">'
                    f"{esc(format_number(count))} "
                    f'<span class="small">({share * 100:.0f} %)</span></td>'
                )
            )
        recall = row[row_index] / total if total and row_index < len(row) else None
        cells += [num_cell(total), num_cell(recall)]
        rows.append(cells)
    return table(header, rows, caption="Confusion matrix (rows: actual class, columns: predicted class)",
                 class_="confusion")


def _number(value: Optional[float]) -> str:
    return "no value" if value is None else f"{value:.4f}"


def threshold_sentence(threshold: Dict) -> str:
    """One failed threshold in words: the metric, its value and the rule it broke."""
    metric, value, limit = threshold.get("metric"), threshold.get("value"), threshold.get("threshold")
    kind = threshold.get("kind")
    if kind == "lower_bound":
        return f"{metric} is {_number(value)}, below the lower bound {_number(limit)}."
    if kind == "upper_bound":
        return f"{metric} is {_number(value)}, above the upper bound {_number(limit)}."
    higher = str(threshold.get("direction", "higher_is_better")).startswith("higher")
    return (f"{metric} changed by {_number(value)} against the served model; the change must be "
            f"{'at least' if higher else 'at most'} {_number(limit)} ({'higher' if higher else 'lower'} is better).")


def render_evaluation_html(
    *,
    blessed: bool,
    overall: Dict[str, float],
    per_slice: List[Tuple[str, Dict[str, float]]],
    thresholds: List[Dict],
    confusion_matrix: Optional[Dict],
    baseline: Optional[Dict] = None,
    failures: Sequence[str] = (),
) -> str:
    """Renders an evaluation: the blessing decision, thresholds and metrics.

    Args:
      blessed: whether the evaluator blessed the model.
      overall: headline metrics on the whole eval set, name → value.
      per_slice: ``(slice name, metrics)`` per slice, in display order.
      thresholds: one dict per threshold: ``{"metric": str, "kind":
        "lower_bound"|"upper_bound"|"change", "threshold": float, "value":
        float|None, "passed": bool}``; a ``"change"`` threshold may also carry
        ``"direction": "higher_is_better"|"lower_is_better"``.
      confusion_matrix: ``{"labels": [str, ...], "matrix": [[int, ...], ...]}``
        with rows = actual and columns = predicted class, or ``None``.
      baseline: the served model compared with: ``{"version": int, "overall": metrics,
        "per_slice": [(slice name, metrics), ...]}``, or ``None`` (no baseline: a first push).
      failures: TFMA's message for each threshold that failed (often empty); shown, when not empty,
        after a sentence per failed threshold under "Why not blessed".

    Returns:
      A self-contained HTML page stating the decision in words ("Blessed" or
      "Not blessed") as well as in colour.
    """
    failed = [t for t in thresholds if not t.get("passed")]
    if blessed:
        decision = tag("p", Html("&#10003; Blessed"), class_="status good decision", role="status")
        because = (f"All {len(thresholds)} threshold{'s' if len(thresholds) != 1 else ''} passed."
                   if thresholds else "No thresholds were configured.")
    else:
        decision = tag("p", Html("&#10007; Not blessed"), class_="status bad decision", role="status")
        because = (
            f"{len(failed)} of {len(thresholds)} thresholds failed: " + ", ".join(str(t.get("metric")) for t in failed)
            + "."
            if failed
            else "The evaluator did not bless the model."
        )
    body: List[object] = [tag("h1", "Model evaluation"), decision, tag("p", because)]
    body.append(tag("p", f"Compared with the served model, version {baseline.get('version')}."
                    if baseline else "No baseline: no model was being served, so only absolute thresholds apply.",
                    class_="muted"))
    reasons = [threshold_sentence(t) for t in failed] + [m for m in failures if m and m.strip()]
    if reasons and not blessed:
        body.append(tag("h2", "Why not blessed"))
        body.append(tag("ul", join([tag("li", reason) for reason in reasons])))
    body.append(tag("h2", "Thresholds"))
    body.append(thresholds_table(thresholds) if thresholds else tag("p", "No thresholds were configured.",
                                                                    class_="muted"))
    body.append(tag("h2", "Overall metrics"))
    body.append(metrics_table(overall, "Overall metrics") if overall else tag("p", "No metrics.", class_="muted"))
    if baseline and baseline.get("overall") is not None:
        body.append(tag("h2", "Candidate vs. baseline"))
        body.append(comparison_table(overall, baseline["overall"], per_slice, baseline.get("per_slice", [])))
    if per_slice:
        body.append(tag("h2", "Metrics per slice"))
        body.append(_per_slice_table(per_slice))
    if confusion_matrix:
        body.append(tag("h2", "Confusion matrix"))
        body.append(confusion_matrix_table(confusion_matrix.get("labels", []), confusion_matrix.get("matrix", [])))
    title = "Model evaluation: " + ("Blessed" if blessed else "Not blessed")
    return document(title, join(body), css=_CSS)
