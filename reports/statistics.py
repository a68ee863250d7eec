"""HTML report of TFDV dataset statistics, splits side by side."""

from typing import Dict, List, Optional, Sequence, Tuple

from tensorflow_metadata.proto.v0 import statistics_pb2

from tfx_kfp.reports._html import (
    SERIES_COLOURS,
    Html,
    document,
    esc,
    format_number,
    format_percent,
    join,
    num_cell,
    swatch,
    table,
    tag,
)
from tfx_kfp.reports import missing_values
from tfx_kfp.reports._svg import density_bars, histogram_svg
from tfx_kfp.reports.missing_values import feature_name
_TOP_VALUES_SHOWN = 5

_CSS = """
.feature { margin-bottom: 18px; }
.topvalues { list-style: none; margin: 0; padding: 0; }
.topvalues li { display: grid; grid-template-columns: minmax(60px, 180px) 100px 120px; gap: 8px;
  align-items: center; }
.topvalues .value { overflow-wrap: anywhere; }
.topvalues .bar { height: 9px; border-radius: 2px; }
"""


_NO_VALUE_NOTE = (
    "With value: examples with at least one value. No value: examples where the feature is absent (TFDV's "
    "num_missing) or its value list is empty, which is what a blank CSV cell becomes (TFX's CsvExampleGen "
    "writes an empty list; TFDV counts it as present with 0 values)."
)


def _count_cells(feature: Optional[statistics_pb2.FeatureNameStatistics], num_examples: int) -> List[Html]:
    common = missing_values.common_statistics(feature) if feature is not None else None
    if common is None:
        return [num_cell("—"), num_cell("—")]
    counted = missing_values.no_value(common, num_examples)
    approximately = "" if counted.exact else "≈ "
    return [num_cell(approximately + format_number(counted.total - counted.count)),
            num_cell(f"{approximately}{format_number(counted.count)} ({format_percent(counted.fraction)})")]


def _no_value_warning(stats_by_split: Dict[str, statistics_pb2.DatasetFeatureStatisticsList]) -> List[Html]:
    found = missing_values.features_without_values(stats_by_split)
    if not found:
        return []
    items = [tag("li", missing_values.describe(name, by_split) + ".") for name, by_split in found.items()]
    return [tag("div", Html(
        tag("p", f"{len(found)} feature{'s have' if len(found) != 1 else ' has'} no value in some examples:")
        + tag("ul", join(items))
        + tag("p", missing_values.FILL_IN_MISSING_HINT + ".", class_="small")), class_="status warn", role="status")]


def _standard_histogram(num_stats: statistics_pb2.NumericStatistics) -> Optional[statistics_pb2.Histogram]:
    for histogram in num_stats.histograms:
        if histogram.type == statistics_pb2.Histogram.STANDARD:
            return histogram
    return num_stats.histograms[0] if num_stats.histograms else None


def _buckets(feature: statistics_pb2.FeatureNameStatistics) -> List[Tuple[float, float, float]]:
    histogram = _standard_histogram(feature.num_stats)
    if histogram is None:
        return []
    return [(b.low_value, b.high_value, b.sample_count) for b in histogram.buckets]


def _split_header(split: str, index: int) -> Html:
    return tag("th", Html(swatch(SERIES_COLOURS[index % len(SERIES_COLOURS)]) + esc(split)), scope="row")


def _numeric_section(
    name: str, type_name: str, per_split: Sequence[Tuple[str, Optional[statistics_pb2.FeatureNameStatistics], int]]
) -> Html:
    present = [(split, f) for split, f, _ in per_split if f is not None and f.HasField("num_stats")]
    buckets = {split: _buckets(f) for split, f in present}
    edges = [edge for values in buckets.values() for low, high, _ in values for edge in (low, high)]
    edges += [v for _, f in present for v in (f.num_stats.min, f.num_stats.max)]
    low, high = (min(edges), max(edges)) if edges else (0.0, 1.0)
    bars = {split: density_bars(values, low, high) for split, values in buckets.items()}
    max_density = max((d for values in bars.values() for _, _, d in values), default=0.0)
    rows = []
    for index, (split, feature, num_examples) in enumerate(per_split):
        cells: List[object] = [_split_header(split, index)] + _count_cells(feature, num_examples)
        if feature is None or not feature.HasField("num_stats"):
            rows.append(cells + [tag("td", "not in this split", colspan=7, class_="muted")])
            continue
        num = feature.num_stats
        cells += [num_cell(v) for v in (num.mean, num.std_dev, num.num_zeros, num.min, num.median, num.max)]
        label = f"Histogram of {name} in {split}: {_describe_histogram(buckets[split])}"
        chart = histogram_svg(
            bars[split],
            max_density=max_density,
            colour=SERIES_COLOURS[index % len(SERIES_COLOURS)],
            label=label,
            low_text=format_number(low),
            high_text=format_number(high),
        )
        cells.append(tag("td", chart))
        rows.append(cells)
    headers = ["Split", "With value", "No value", "Mean", "Std dev", "Zeros", "Min", "Median", "Max", "Histogram"]
    return _feature_section(name, type_name, table(headers, rows, caption=f"{name} by split", caption_hidden=True))


def _describe_histogram(buckets: Sequence[Tuple[float, float, float]]) -> str:
    if not buckets:
        return "no values"
    total = sum(count for _, _, count in buckets) or 1.0
    low, high, count = max(buckets, key=lambda b: b[2])
    return (
        f"{len(buckets)} buckets from {format_number(buckets[0][0])} to {format_number(buckets[-1][1])}; "
        f"the largest, {format_number(low)} to {format_number(high)}, holds {format_percent(count / total)}"
    )


def _top_values(string_stats: statistics_pb2.StringStatistics, colour: str) -> Html:
    present = string_stats.common_stats.num_non_missing or 1
    items = []
    for top in list(string_stats.top_values)[:_TOP_VALUES_SHOWN]:
        fraction = top.frequency / present
        items.append(
            "<li>"
            + tag("span", top.value, class_="value")
            + tag("span", f"{format_number(top.frequency)} ({format_percent(fraction)})", class_="num small")
            + Html(
                f'<span class="bar" style="width:{min(fraction, 1.0) * 100:.1f}%;background:{esc(colour)}" '
                'aria-hidden="true"></span>'
            )
            + "</li>"
        )
    more = len(string_stats.top_values) - _TOP_VALUES_SHOWN
    suffix = tag("p", f"and {more} more in the statistics", class_="muted small") if more > 0 else ""
    return Html(tag("ul", Html("".join(items)), class_="topvalues") + suffix)


def _categorical_section(
    name: str, type_name: str, per_split: Sequence[Tuple[str, Optional[statistics_pb2.FeatureNameStatistics], int]]
) -> Html:
    rows = []
    for index, (split, feature, num_examples) in enumerate(per_split):
        cells: List[object] = [_split_header(split, index)] + _count_cells(feature, num_examples)
        if feature is None or not feature.HasField("string_stats"):
            rows.append(cells + [tag("td", "not in this split", colspan=3, class_="muted")])
            continue
        string_stats = feature.string_stats
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        cells += [
            num_cell(string_stats.unique),
            num_cell(string_stats.avg_length),
            tag("td", _top_values(string_stats, colour)),
        ]
        rows.append(cells)
    headers = ["Split", "With value", "No value", "Unique", "Avg length", "Top values"]
    return _feature_section(name, type_name, table(headers, rows, caption=f"{name} by split", caption_hidden=True))


def _other_section(
    name: str, type_name: str, per_split: Sequence[Tuple[str, Optional[statistics_pb2.FeatureNameStatistics], int]]
) -> Html:
    rows = [
        [_split_header(split, index)] + _count_cells(feature, num_examples)
        for index, (split, feature, num_examples) in enumerate(per_split)
    ]
    return _feature_section(
        name, type_name, table(["Split", "With value", "No value"], rows, caption=f"{name} by split", caption_hidden=True)
    )


def _feature_section(name: str, type_name: str, body: Html) -> Html:
    return Html(
        '<section class="feature">'
        + tag("h3", Html(esc(name) + " " + tag("span", type_name, class_="tag")))
        + body
        + "</section>"
    )


def _kind(features: Sequence[Optional[statistics_pb2.FeatureNameStatistics]]) -> str:
    kinds = {f.WhichOneof("stats") for f in features if f is not None}
    if "num_stats" in kinds:
        return "numeric"
    if "string_stats" in kinds:
        return "categorical"
    return "other"


_GROUP_TITLES = {"numeric": "Numeric features", "categorical": "Categorical features", "other": "Other features"}
_SECTION_BUILDERS = {"numeric": _numeric_section, "categorical": _categorical_section, "other": _other_section}


def render_statistics_html(stats_by_split: Dict[str, statistics_pb2.DatasetFeatureStatisticsList]) -> str:
    """Renders dataset statistics of one or more splits as one HTML page.

    Per feature, one row per split: examples with a value and with none (absent or an empty value
    list, as a blank CSV cell becomes; features with no value in some examples are also listed at the
    top), and for numeric
    features mean, standard deviation, zeros, min, median, max and a histogram
    drawn on an x axis shared by all splits; for categorical features the number
    of unique values and the top values. Splits sit next to each other so
    training/serving skew is visible.

    Args:
      stats_by_split: statistics per split name, in display order (e.g.
        ``{"train": ..., "eval": ...}``); the unsliced dataset of each list is used.

    Returns:
      A self-contained HTML page (no scripts, no external resources).
    """
    splits = list(stats_by_split)
    datasets = {split: missing_values.unsliced(stats_by_split[split]) for split in splits}
    by_name: Dict[str, Dict[str, statistics_pb2.FeatureNameStatistics]] = {}
    type_names: Dict[str, str] = {}
    for split in splits:
        for feature in datasets[split].features:
            name = feature_name(feature)
            by_name.setdefault(name, {})[split] = feature
            type_names.setdefault(name, statistics_pb2.FeatureNameStatistics.Type.Name(feature.type))
    groups: Dict[str, List[Html]] = {"numeric": [], "categorical": [], "other": []}
    for name, features in by_name.items():
        per_split = [(split, features.get(split), datasets[split].num_examples) for split in splits]
        kind = _kind([f for _, f, _ in per_split])
        groups[kind].append(_SECTION_BUILDERS[kind](name, type_names[name], per_split))

    overview_rows = [
        [_split_header(split, index), num_cell(datasets[split].num_examples), num_cell(len(datasets[split].features))]
        for index, split in enumerate(splits)
    ]
    body = [
        tag("h1", "Data statistics"),
        tag(
            "p",
            f"{len(by_name)} features in {len(splits)} split{'s' if len(splits) != 1 else ''}"
            f" ({', '.join(splits)}). Histograms of a feature share one x axis across splits; bar heights"
            " show the share of values per unit of x, so splits of different sizes compare directly.",
        ),
        table(["Split", "Examples", "Features"], overview_rows, caption="Splits"),
        *_no_value_warning(stats_by_split),
        tag("p", _NO_VALUE_NOTE, class_="muted small"),
    ]
    if not by_name:
        body.append(tag("p", "The statistics contain no features.", class_="status warn", role="status"))
    for kind, sections in groups.items():
        if sections:
            body.append(tag("h2", f"{_GROUP_TITLES[kind]} ({len(sections)})"))
            body.extend(sections)
    return document("Data statistics: " + ", ".join(splits), join(body), css=_CSS)
