"""Inline SVG charts: small histograms and line charts.

Charts carry ``role="img"``, an ``aria-label`` and a ``<title>`` that say in
words what they show; the reports also give the numbers in tables.
"""

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from tfx_kfp.reports._html import Html, esc, format_number

# (start, end, density): start and end as fractions of the x range.
Bar = Tuple[float, float, float]

_ZERO_WIDTH = 0.02  # width given to a bucket whose low and high values are equal


def density_bars(buckets: Sequence[Tuple[float, float, float]], low: float, high: float) -> List[Bar]:
    """Places histogram buckets on a shared x range.

    Heights are densities (share of the samples per unit of x range), so
    histograms of splits with different sizes and bucket widths compare fairly.

    Args:
      buckets: ``(low_value, high_value, sample_count)`` per bucket.
      low: left end of the shared x range.
      high: right end of the shared x range.

    Returns:
      One bar per bucket with a positive count.
    """
    total = sum(count for _, _, count in buckets)
    if total <= 0:
        return []
    span = (high - low) or 1.0
    bars = []
    for bucket_low, bucket_high, count in buckets:
        if count <= 0:
            continue
        start = (bucket_low - low) / span
        end = (bucket_high - low) / span
        if end - start <= 0:
            start, end = start - _ZERO_WIDTH / 2, start + _ZERO_WIDTH / 2
        start, end = max(0.0, start), min(1.0, end)
        width = max(end - start, 1e-9)
        bars.append((start, end, count / total / width))
    return bars


def histogram_svg(
    bars: Sequence[Bar],
    *,
    max_density: float,
    colour: str,
    label: str,
    low_text: str,
    high_text: str,
    width: int = 240,
    height: int = 64,
) -> Html:
    """A small histogram.

    Args:
      bars: from :func:`density_bars`.
      max_density: density drawn at full height (shared across splits).
      colour: bar colour.
      label: text alternative describing the chart.
      low_text: label under the left end of the x axis.
      high_text: label under the right end of the x axis.
      width: pixel width.
      height: pixel height including the axis labels.

    Returns:
      The ``<svg>`` element.
    """
    plot_height = height - 14
    rects = []
    for start, end, density in bars:
        bar_height = plot_height * min(density / max_density, 1.0) if max_density > 0 else 0
        bar_height = max(bar_height, 1.0)
        x = start * width
        rects.append(
            f'<rect x="{x:.1f}" y="{plot_height - bar_height:.1f}" '
            f'width="{max((end - start) * width - 0.6, 1.0):.1f}" height="{bar_height:.1f}"/>'
        )
    return Html(
        f'<svg role="img" aria-label="{esc(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{esc(label)}</title>'
        f'<g fill="{esc(colour)}">{"".join(rects)}</g>'
        f'<line x1="0" y1="{plot_height}" x2="{width}" y2="{plot_height}" stroke="#8c959f"/>'
        f'<text x="0" y="{height - 2}" font-size="10" fill="#57606a">{esc(low_text)}</text>'
        f'<text x="{width}" y="{height - 2}" font-size="10" fill="#57606a" '
        f'text-anchor="end">{esc(high_text)}</text></svg>'
    )


def nice_ticks(low: float, high: float, count: int = 5) -> List[float]:
    """Round tick values covering ``[low, high]``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw_step = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 0.5 and len(ticks) < 50:
        ticks.append(round(value, 12))
        value += step
    return ticks


@dataclass
class Series:
    """One line of a line chart.

    Attributes:
      name: legend text.
      values: y value per x position (``None`` or NaN leaves a gap).
      colour: stroke colour.
      dashed: whether the line is dashed (so lines differ without colour).
      marker: ``"circle"`` or ``"square"``.
    """

    name: str
    values: Sequence[Optional[float]]
    colour: str
    dashed: bool = False
    marker: str = "circle"


def _finite(value: Optional[float]) -> bool:
    return value is not None and math.isfinite(value)


def _marker(shape: str, x: float, y: float) -> str:
    if shape == "square":
        return f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>'


def line_chart_svg(
    series: Sequence[Series],
    *,
    label: str,
    x_label: str,
    y_label: str,
    width: int = 600,
    height: int = 300,
) -> Html:
    """A line chart of one or more series over x = 1, 2, … (e.g. epochs).

    Args:
      series: the lines.
      label: text alternative describing the chart.
      x_label: x axis title.
      y_label: y axis title.
      width: pixel width.
      height: pixel height.

    Returns:
      The ``<svg>`` element.
    """
    left, right, top, bottom = 64, 16, 34, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    length = max((len(s.values) for s in series), default=0)
    finite = [v for s in series for v in s.values if _finite(v)]
    y_low, y_high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    y_ticks = nice_ticks(y_low, y_high)
    y_low, y_high = (y_ticks[0], y_ticks[-1]) if len(y_ticks) > 1 else (y_low, y_high + 1)
    x_ticks = [int(t) for t in nice_ticks(1, max(length, 2), 8) if t >= 1 and t == int(t)]

    def sx(index: float) -> float:
        return left + (index - 1) / max(length - 1, 1) * plot_w

    def sy(value: float) -> float:
        return top + plot_h - (value - y_low) / ((y_high - y_low) or 1.0) * plot_h

    parts = [
        f'<svg role="img" aria-label="{esc(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{esc(label)}</title>',
        '<g stroke="#d0d7de" stroke-width="1">',
    ]
    for tick in y_ticks:
        parts.append(f'<line x1="{left}" y1="{sy(tick):.1f}" x2="{left + plot_w}" y2="{sy(tick):.1f}"/>')
    parts.append("</g>")
    parts.append(
        f'<g stroke="#57606a"><line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>'
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/></g>'
    )
    parts.append('<g font-size="11" fill="#424a53">')
    for tick in y_ticks:
        parts.append(
            f'<text x="{left - 6}" y="{sy(tick) + 4:.1f}" text-anchor="end">{esc(format_number(tick))}</text>'
        )
    for tick in x_ticks:
        if tick <= length:
            parts.append(f'<text x="{sx(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{tick}</text>')
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">{esc(x_label)}</text>'
        f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{esc(y_label)}</text></g>'
    )
    legend_x = left
    for line in series:
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        parts.append(
            f'<g><line x1="{legend_x}" y1="14" x2="{legend_x + 28}" y2="14" stroke="{esc(line.colour)}" '
            f'stroke-width="2"{dash}/><g fill="{esc(line.colour)}">{_marker(line.marker, legend_x + 14, 14)}</g>'
            f'<text x="{legend_x + 34}" y="18" font-size="12" fill="#1b1f24">{esc(line.name)}</text></g>'
        )
        legend_x += 44 + 7 * len(line.name)
    for line in series:
        segments, current = [], []
        for index, value in enumerate(line.values, start=1):
            if _finite(value):
                current.append(f"{sx(index):.1f},{sy(value):.1f}")
            elif current:
                segments.append(current)
                current = []
        if current:
            segments.append(current)
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        for points in segments:
            parts.append(
                f'<polyline fill="none" stroke="{esc(line.colour)}" stroke-width="2"{dash} '
                f'points="{" ".join(points)}"/>'
            )
        if length <= 60:
            markers = [
                _marker(line.marker, sx(i), sy(v)) for i, v in enumerate(line.values, start=1) if _finite(v)
            ]
            parts.append(f'<g fill="{esc(line.colour)}">{"".join(markers)}</g>')
    parts.append("</svg>")
    return Html("".join(parts))
