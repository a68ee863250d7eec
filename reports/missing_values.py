"""Examples with no value for a feature, read from TFDV statistics.

TFDV's ``num_missing`` counts only examples where a feature is absent. TFX's CsvExampleGen writes a blank
CSV cell as a present feature with an empty value list (tfx/components/example_gen/csv_example_gen/
executor.py, TFX 1.16: ``_int_handler`` and friends), which TFDV counts as present with 0 values: it shows
only in ``min_num_values`` (0), ``tot_num_values`` and the ``num_values_histogram``. "No value" here is
both: absent, or an empty value list.
"""

from dataclasses import dataclass
from typing import Dict, Optional

from tensorflow_metadata.proto.v0 import statistics_pb2

from tfx_kfp.reports._html import format_percent

DEFAULT_SLICE = "All Examples"
# TFX's chicago-taxi example fills blanks in its preprocessing_fn (tfx/examples/chicago_taxi_pipeline/
# taxi_utils_native_keras.py, TFX 1.16).
FILL_IN_MISSING_HINT = (
    "TFX's SchemaGen gives a feature with empty values no fixed shape, so Transform hands it to "
    "preprocessing_fn as a tf.SparseTensor: fill the missing values there (to '' or 0, as `_fill_in_missing` "
    "in TFX's chicago-taxi example taxi_utils_native_keras.py does) before the model uses the feature")


@dataclass(frozen=True)
class NoValue:
    """Examples of one split with no value for a feature.

    Attributes:
      count: examples where the feature is absent or its value list is empty.
      total: examples in the split.
      exact: False where ``count`` is read from TFDV's approximate num-values quantiles (features with
        several values per example); exact for features with at most one value per example (CSV columns).
    """

    count: int
    total: int
    exact: bool = True

    @property
    def fraction(self) -> Optional[float]:
        return self.count / self.total if self.total else None


def common_statistics(feature: statistics_pb2.FeatureNameStatistics) -> Optional[statistics_pb2.CommonStatistics]:
    """The feature's CommonStatistics, whichever kind of statistics it has."""
    kind = feature.WhichOneof("stats")
    return getattr(feature, kind).common_stats if kind in ("num_stats", "string_stats", "bytes_stats",
                                                           "struct_stats") else None


def no_value(common: statistics_pb2.CommonStatistics, num_examples: int = 0) -> NoValue:
    """Examples with no value, from one feature's CommonStatistics."""
    present, missing = common.num_non_missing, common.num_missing
    total = present + missing or num_examples
    histogram = common.num_values_histogram.buckets
    counted_values = bool(common.max_num_values or common.tot_num_values or histogram)
    if not present or not counted_values or common.min_num_values > 0:
        return NoValue(missing, total)
    if common.max_num_values <= 1:  # one value or none per example: the empty lists are exactly the rest
        return NoValue(missing + present - common.tot_num_values, total)
    empty = sum(bucket.sample_count for bucket in histogram if bucket.high_value == 0)
    return NoValue(missing + round(empty), total, exact=False)


def unsliced(stats: statistics_pb2.DatasetFeatureStatisticsList) -> statistics_pb2.DatasetFeatureStatistics:
    """The dataset of all examples (TFDV's default slice, or the only one)."""
    for dataset in stats.datasets:
        if dataset.name in ("", DEFAULT_SLICE):
            return dataset
    return stats.datasets[0] if stats.datasets else statistics_pb2.DatasetFeatureStatistics()


def feature_name(feature: statistics_pb2.FeatureNameStatistics) -> str:
    """The feature's name: its path joined with dots, or its ``name`` field."""
    return ".".join(feature.path.step) if feature.path.step else feature.name


def features_without_values(
    stats_by_split: Dict[str, statistics_pb2.DatasetFeatureStatisticsList],
) -> Dict[str, Dict[str, NoValue]]:
    """Feature -> split -> NoValue, for the features with no value in at least one example of a split."""
    found: Dict[str, Dict[str, NoValue]] = {}
    for split, stats in stats_by_split.items():
        dataset = unsliced(stats)
        for feature in dataset.features:
            common = common_statistics(feature)
            counted = no_value(common, dataset.num_examples) if common is not None else None
            if counted is not None and counted.count > 0:
                found.setdefault(feature_name(feature), {})[split] = counted
    return found


def counts_text(by_split: Dict[str, NoValue]) -> str:
    """``203 of 227 train examples (89 %), …``: the examples with no value, split by split."""
    return ", ".join(f"{'about ' if not n.exact else ''}{n.count:,} of {n.total:,} {split} examples"
                     + (f" ({format_percent(n.fraction)})" if n.fraction is not None else "")
                     for split, n in by_split.items())


def describe(feature: str, by_split: Dict[str, NoValue]) -> str:
    """``'fare' has no value in 203 of 227 train examples (89 %), …``."""
    return f"{feature!r} has no value in {counts_text(by_split)}"
