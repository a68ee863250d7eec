"""HTML report of a Keras training history: loss and metric curves."""

import math
from typing import Dict, List, Optional, Sequence

from tfx_kfp.reports._html import SERIES_COLOURS, Html, document, format_number, join, num_cell, table, tag
from tfx_kfp.reports._svg import Series, line_chart_svg

_VALIDATION_PREFIX = "val_"

_CSS = """
figure { margin: 8px 0 20px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
details { margin-top: 16px; }
summary { cursor: pointer; font-weight: 600; }
"""


def _last_finite(values: Sequence[Optional[float]]) -> Optional[float]:
    for value in reversed(values):
        if value is not None and math.isfinite(value):
            return value
    return None


def metric_groups(history: Dict[str, List[float]]) -> Dict[str, Dict[str, List[float]]]:
    """Groups ``loss``/``val_loss``-style keys: base name → {"training"|"validation": values}.

    ``loss`` comes first; other metrics keep their order in the history.
    """
    groups: Dict[str, Dict[str, List[float]]] = {}
    for key, values in history.items():
        if key.startswith(_VALIDATION_PREFIX) and len(key) > len(_VALIDATION_PREFIX):
            groups.setdefault(key[len(_VALIDATION_PREFIX) :], {})["validation"] = list(values)
        else:
            groups.setdefault(key, {})["training"] = list(values)
    ordered = {name: groups[name] for name in groups if name == "loss"}
    ordered.update({name: curves for name, curves in groups.items() if name != "loss"})
    return ordered


def _chart(name: str, curves: Dict[str, List[float]]) -> Html:
    series = []
    if "training" in curves:
        series.append(Series("training", curves["training"], SERIES_COLOURS[0], dashed=False, marker="circle"))
    if "validation" in curves:
        series.append(Series("validation", curves["validation"], SERIES_COLOURS[1], dashed=True, marker="square"))
    finals = ", ".join(
        f"{s.name} {format_number(_last_finite(s.values))}" for s in series if _last_finite(s.values) is not None
    )
    epochs = max((len(s.values) for s in series), default=0)
    label = f"Line chart of {name} over {epochs} epochs" + (f"; final values: {finals}" if finals else "")
    chart = line_chart_svg(series, label=label, x_label="epoch", y_label=name)
    return Html("<figure>" + tag("figcaption", name) + chart + "</figure>")


def render_training_html(history: Dict[str, List[float]]) -> str:
    """Renders a Keras-style training history as HTML line charts.

    ``loss``/``val_loss`` and every ``<metric>``/``val_<metric>`` pair share a
    chart (training solid with circles, validation dashed with squares). A
    table gives the final values and a collapsible table every epoch.

    Args:
      history: ``History.history``: metric name → one value per epoch, e.g.
        ``{"loss": [...], "val_loss": [...], "sparse_categorical_accuracy": [...]}``.

    Returns:
      A self-contained HTML page (no scripts, no external resources).
    """
    groups = metric_groups(history)
    epochs = max((len(v) for v in history.values()), default=0)
    body: List[object] = [tag("h1", "Training")]
    if not groups or epochs == 0:
        body.append(tag("p", "No training history was recorded.", class_="status warn", role="status"))
        return document("Training: no history", join(body))
    body.append(tag("p", f"{epochs} epoch{'s' if epochs != 1 else ''}; {len(groups)} "
                         f"metric{'s' if len(groups) != 1 else ''} (training and validation)."))
    final_rows = [
        [name, num_cell(_last_finite(c.get("training", []))), num_cell(_last_finite(c.get("validation", [])))]
        for name, c in groups.items()
    ]
    body.append(table(["Metric", "Training (final)", "Validation (final)"], final_rows, caption="Final values"))
    body.append(tag("h2", "Curves"))
    body.extend(_chart(name, curves) for name, curves in groups.items())
    keys = list(history)
    epoch_rows = [
        [str(epoch + 1)] + [num_cell(history[k][epoch] if epoch < len(history[k]) else None) for k in keys]
        for epoch in range(epochs)
    ]
    body.append(
        Html(
            "<details>"
            + tag("summary", "Values per epoch")
            + table(["Epoch"] + keys, epoch_rows, caption="Values per epoch", caption_hidden=True)
            + "</details>"
        )
    )
    return document("Training: " + ", ".join(groups), join(body), css=_CSS)
