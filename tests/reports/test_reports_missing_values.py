"""Examples with no value, read from TFDV statistics: absent features and empty value lists (unit)."""

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import statistics_pb2

from tfx_kfp.reports import missing_values
from tfx_kfp.reports.missing_values import NoValue


def _common(text: str) -> statistics_pb2.CommonStatistics:
    return text_format.Parse(text, statistics_pb2.CommonStatistics())


def test_blank_csv_cells_are_the_present_examples_without_a_value():
    # As TFDV records a CSV column blank in 203 of 227 rows: present everywhere, 24 values in all.
    common = _common("num_non_missing: 227 max_num_values: 1 avg_num_values: 0.1057 tot_num_values: 24 "
                     "num_values_histogram { buckets { sample_count: 25.4 } type: QUANTILES }")
    assert missing_values.no_value(common) == NoValue(203, 227)


def test_absent_and_empty_add_up():
    common = _common("num_non_missing: 90 num_missing: 10 min_num_values: 0 max_num_values: 1 tot_num_values: 80")
    assert missing_values.no_value(common) == NoValue(20, 100)


def test_a_feature_with_a_value_everywhere_has_none_missing():
    common = _common("num_non_missing: 50 min_num_values: 1 max_num_values: 1 tot_num_values: 50")
    assert missing_values.no_value(common) == NoValue(0, 50)


def test_statistics_without_value_counts_fall_back_to_num_missing():
    assert missing_values.no_value(_common("num_non_missing: 90 num_missing: 10")) == NoValue(10, 100)


def test_multivalent_features_are_estimated_from_the_quantiles_and_marked_so():
    common = _common("num_non_missing: 100 min_num_values: 0 max_num_values: 3 tot_num_values: 150 "
                     "num_values_histogram { buckets { low_value: 0 high_value: 0 sample_count: 10 } "
                     "buckets { low_value: 0 high_value: 0 sample_count: 10 } "
                     "buckets { low_value: 0 high_value: 3 sample_count: 80 } type: QUANTILES }")
    assert missing_values.no_value(common) == NoValue(20, 100, exact=False)


def test_features_without_values_name_each_split():
    stats = text_format.Parse("""datasets { num_examples: 10 features { path { step: "fare" } num_stats {
        common_stats { num_non_missing: 10 max_num_values: 1 tot_num_values: 4 } } }
        features { path { step: "tips" } num_stats {
        common_stats { num_non_missing: 10 min_num_values: 1 max_num_values: 1 tot_num_values: 10 } } } }""",
                              statistics_pb2.DatasetFeatureStatisticsList())
    found = missing_values.features_without_values({"train": stats})
    assert found == {"fare": {"train": NoValue(6, 10)}}
    assert missing_values.describe("fare", found["fare"]) == "'fare' has no value in 6 of 10 train examples (60 %)"


def test_the_statistics_report_lists_the_feature_and_counts_its_blanks():
    import html

    from tests._support.report_samples import html_tables
    from tfx_kfp.reports import render_statistics_html

    stats = text_format.Parse("""datasets { num_examples: 1000 features { path { step: "tips" } num_stats {
        common_stats { num_non_missing: 1000 max_num_values: 1 tot_num_values: 1 } mean: 2 } } }""",
                              statistics_pb2.DatasetFeatureStatisticsList())
    page = render_statistics_html({"train": stats})
    tips = next(t for t in html_tables(page) if t["caption"] == "tips by split")
    assert tips["rows"][0][1:3] == ["With value", "No value"] and tips["rows"][1][1:3] == ["1", "999 (99.9 %)"]
    assert "1 feature has no value in some examples:" in page
    assert "'tips' has no value in 999 of 1,000 train examples (99.9 %)." in html.unescape(page)
