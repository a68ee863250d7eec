"""Fast tests of the report renderers (no TensorFlow, no browser)."""

import subprocess
import sys

import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from tests._support.report_samples import (
    EVIL,
    MAX_REPORT_BYTES,
    evaluation_kwargs,
    external_references,
    html_tables,
    push_kwargs,
    sample_history,
)
from tfx_kfp.reports import (
    render_anomalies_html,
    render_evaluation_html,
    render_push_markdown,
    render_schema_markdown,
    render_statistics_html,
    render_training_html,
    render_transform_markdown,
)
from tfx_kfp.reports._html import CONTENT_SECURITY_POLICY, format_number
from tfx_kfp.reports.markdown_html import markdown_to_html

STATS = """
datasets {
  num_examples: 100
  features {
    path { step: "fare" }
    type: FLOAT
    num_stats {
      common_stats { num_non_missing: 90 num_missing: 10 }
      mean: 12.5 std_dev: 3.25 num_zeros: 2 min: 0 median: 11 max: 40
      histograms {
        buckets { low_value: 0 high_value: 20 sample_count: 60 }
        buckets { low_value: 20 high_value: 40 sample_count: 30 }
      }
    }
  }
  features {
    path { step: "payment_type" }
    type: STRING
    string_stats {
      common_stats { num_non_missing: 100 }
      unique: 2
      top_values { value: "Cash" frequency: 70 }
      top_values { value: "Credit Card" frequency: 30 }
    }
  }
}
"""


def _stats(text: str = STATS) -> statistics_pb2.DatasetFeatureStatisticsList:
    return text_format.Parse(text, statistics_pb2.DatasetFeatureStatisticsList())


def test_renderers_import_no_tensorflow_tfdv_tfma_or_tfx():
    code = (
        "import sys, tfx_kfp.reports, tfx_kfp.reports.run_index, tfx_kfp.reports.run_scan, tfx_kfp.cli.commands.report\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'tfx', 'tensorflow_data_validation', 'tensorflow_model_analysis', 'apache_beam', 'numpy'))\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_statistics_html_shows_counts_stats_and_top_values_per_split():
    page = render_statistics_html({"train": _stats(), "eval": _stats()})
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    splits, numeric, categorical = html_tables(page)
    assert splits["rows"] == [["Split", "Examples", "Features"], ["train", "100", "2"], ["eval", "100", "2"]]
    assert (numeric["caption"], categorical["caption"]) == ("fare by split", "payment_type by split")
    assert [row[:9] for row in numeric["rows"][1:]] == [
        [split, "90", "10 (10 %)", "12.5", "3.25", "2", "0", "11", "40"] for split in ("train", "eval")]
    assert [row[9].split(";")[0] for row in numeric["rows"][1:]] == [
        f"Histogram of fare in {split}: 2 buckets from 0 to 40" for split in ("train", "eval")]
    assert [row[1:] for row in categorical["rows"][1:]] == [
        ["100", "0 (0 %)", "2", "0", "Cash 70 (70 %) Credit Card 30 (30 %)"]] * 2


def test_statistics_html_marks_a_feature_missing_from_a_split():
    eval_stats = _stats()
    del eval_stats.datasets[0].features[0]
    page = render_statistics_html({"train": _stats(), "eval": eval_stats})
    fare = html_tables(page)[1]
    assert fare["caption"] == "fare by split"
    assert fare["rows"][1][:2] == ["train", "90"] and fare["rows"][2] == ["eval", "—", "—", "not in this split"]


def test_statistics_html_escapes_feature_names_and_values():
    stats = _stats()
    stats.datasets[0].features[0].path.step[0] = EVIL
    stats.datasets[0].features[1].string_stats.top_values[0].value = EVIL
    page = render_statistics_html({"train": stats})
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert external_references(page) == []


def test_statistics_html_of_a_taxi_sized_dataset_stays_small():
    stats = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = stats.datasets.add(num_examples=5_000_000)
    for i in range(12):
        feature = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.FLOAT)
        feature.path.step.append(f"numeric_feature_{i}")
        feature.num_stats.common_stats.num_non_missing = 4_900_000
        feature.num_stats.common_stats.num_missing = 100_000
        feature.num_stats.mean, feature.num_stats.max = 3.0, 1000.0
        for b in range(10):
            feature.num_stats.histograms.add().buckets.add(low_value=b * 100, high_value=b * 100 + 100,
                                                             sample_count=1000.0 * b)
    for i in range(8):
        feature = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.STRING)
        feature.path.step.append(f"categorical_feature_{i}")
        feature.string_stats.common_stats.num_non_missing = 5_000_000
        feature.string_stats.unique = 5000
        for v in range(5000):
            feature.string_stats.top_values.add(value=f"value-{v}-" + "x" * 30, frequency=5000 - v)
    page = render_statistics_html({"train": stats, "eval": stats})
    assert len(page.encode()) < 200_000
    top_values = html_tables(page)[13]["rows"][1][5]  # categorical_feature_0, train: 5 shown of 5000
    assert top_values.startswith("value-0-") and "value-4-" in top_values and "value-5-" not in top_values


def test_anomalies_html_states_no_anomalies_in_words():
    page = render_anomalies_html({"train": anomalies_pb2.Anomalies(), "eval": anomalies_pb2.Anomalies()})
    assert "No anomalies found in train, eval." in page
    assert "No anomalies in eval." in page
    assert "<table" not in page


def test_anomalies_html_lists_each_anomaly_and_escapes_it():
    anomalies = text_format.Parse(
        """
        anomaly_info { key: "company" value {
          severity: ERROR short_description: "Unexpected string values"
          description: "Examples contain values missing from the schema: <b>x</b>."
          reason { type: ENUM_TYPE_UNEXPECTED_STRING_VALUES short_description: "Unexpected string values"
                   description: "Examples contain values missing from the schema: <b>x</b>." } } }
        data_missing: false
        """,
        anomalies_pb2.Anomalies(),
    )
    page = render_anomalies_html({"train": anomalies_pb2.Anomalies(), "eval": anomalies})
    assert "1 anomaly found in eval." in page
    assert "No anomalies in train." in page
    (table,) = html_tables(page)
    assert table == {"caption": "Anomalies in eval (1)", "rows": [
        ["Feature", "Kind", "Description", "Severity"],
        ["company", "Unexpected string values ENUM_TYPE_UNEXPECTED_STRING_VALUES",
         "Examples contain values missing from the schema: <b>x</b>.", "Error"]]}
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_schema_markdown_lists_types_presence_and_domains():
    schema = text_format.Parse(
        """
        feature { name: "species" type: INT presence { min_fraction: 1 min_count: 1 }
                  int_domain { min: 0 max: 2 is_categorical: true } shape { dim { size: 1 } } }
        feature { name: "payment_type" type: BYTES domain: "payment_type" presence { min_count: 1 }
                  value_count { min: 1 max: 1 } }
        feature { name: "tips" type: FLOAT float_domain { min: 0 } not_in_environment: "SERVING" }
        string_domain { name: "payment_type" value: "Cash" value: "Credit | Card" }
        default_environment: "TRAINING" default_environment: "SERVING"
        """,
        schema_pb2.Schema(),
    )
    markdown = render_schema_markdown(schema)
    assert markdown.startswith("# Schema")
    assert "| species | INT | required | fixed shape [1] | integer in [0, 2], categorical |" in markdown
    assert "payment\\_type: 2 values: Cash, Credit \\| Card" in markdown
    assert "float in [0, ∞]" in markdown and "not in SERVING" in markdown
    cells = markdown_to_html(markdown)
    assert "<th scope=\"col\">Domain</th>" in cells and "Credit | Card" in cells


def test_schema_markdown_escapes_names():
    schema = schema_pb2.Schema()
    schema.feature.add(name=EVIL, type=schema_pb2.FLOAT)
    markdown = render_schema_markdown(schema)
    assert "<script" not in markdown
    rendered = markdown_to_html(markdown)
    assert "<script" not in rendered and "<a " not in rendered and "<em>" not in rendered
    assert "&lt;script&gt;" in rendered


def test_transform_markdown_marks_new_passed_and_dropped_features():
    raw = text_format.Parse('feature { name: "a" type: INT } feature { name: "b" type: FLOAT }', schema_pb2.Schema())
    out = text_format.Parse(
        'feature { name: "a" type: FLOAT shape {} } feature { name: "b_xf" type: FLOAT shape { dim { size: 3 } } }',
        schema_pb2.Schema(),
    )
    markdown = render_transform_markdown(out, raw)
    assert "2 output features from 2 input features." in markdown
    assert "| a | FLOAT | scalar | optional | from input, type changed (INT → FLOAT) |" in markdown
    assert "| b\\_xf | FLOAT | fixed shape [3] | optional | new |" in markdown
    assert "- b (FLOAT)" in markdown
    assert "Origin" not in render_transform_markdown(out)


def test_training_html_draws_a_chart_per_metric_with_final_values():
    history = sample_history(8)
    page = render_training_html(history)
    assert page.count("<svg") == 2 and page.count("<polyline") == 4
    assert "Line chart of loss over 8 epochs" in page
    final, per_epoch = html_tables(page)
    assert final["rows"] == [["Metric", "Training (final)", "Validation (final)"]] + [
        [m, format_number(history[m][-1]), format_number(history[f"val_{m}"][-1])]
        for m in ("loss", "sparse_categorical_accuracy")]
    assert per_epoch["rows"][0] == ["Epoch", *history]
    assert per_epoch["rows"][1:] == [[str(e + 1), *(format_number(v[e]) for v in history.values())]
                                     for e in range(8)]


def test_training_html_without_history_says_so():
    assert "No training history was recorded." in render_training_html({})


@pytest.mark.parametrize("blessed, words", [(True, "Blessed"), (False, "Not blessed")])
def test_evaluation_html_states_the_decision_in_words(blessed, words):
    page = render_evaluation_html(**evaluation_kwargs(blessed=blessed))
    assert f"<title>Model evaluation: {words}</title>" in page
    assert f"{words}</p>" in page
    thresholds, overall, per_slice, matrix = html_tables(page)
    assert thresholds["rows"][1] == ["sparse_categorical_accuracy", "at least 0.6" if blessed else "at least 0.99",
                                     "0.94", "✓ Pass" if blessed else "✗ Fail"]
    assert thresholds["rows"][2][3] == "✓ Pass"
    assert overall["rows"][1:] == [["sparse_categorical_accuracy", "0.94"], ["example_count", "114"]]
    assert [row[0] for row in per_slice["rows"][1:]] == ["Overall", "species = 0", "species = 1", "species = 2"]
    assert matrix["rows"][0] == ["Actual \\ predicted", "Adelie", "Chinstrap", "Gentoo", "Total", "Recall"]
    assert matrix["rows"][2] == ["Chinstrap", "3 (13 %)", "20 (87 %)", "0 (0 %)", "23", "0.8696"]


def test_evaluation_html_without_thresholds_or_matrix():
    page = render_evaluation_html(blessed=True, overall={"loss": 0.3}, per_slice=[], thresholds=[],
                                  confusion_matrix=None)
    assert "No thresholds were configured." in page and "Confusion matrix" not in page


def test_push_markdown_shows_path_version_and_signatures():
    markdown = render_push_markdown(**push_kwargs())
    assert "**Pushed.**" in markdown
    assert "| Pushed path | /serving/penguin/1735689600 |" in markdown
    assert "### serving\\_default" in markdown
    assert "| input | culmen\\_length\\_mm | float32 | [any] |" in markdown
    assert "| output | output\\_0 | float32 | [any, 3] |" in markdown


def test_push_markdown_not_pushed():
    markdown = render_push_markdown(pushed=False, pushed_path=None, version=None, signatures={},
                                    reason="model not blessed")
    assert "**Not pushed.**" in markdown and "Reason: model not blessed" in markdown


def test_every_page_is_small_and_self_contained():
    pages = [
        render_statistics_html({"train": _stats(), "eval": _stats()}),
        render_anomalies_html({"train": anomalies_pb2.Anomalies()}),
        render_training_html(sample_history(200)),
        render_evaluation_html(**evaluation_kwargs(blessed=True)),
    ]
    for page in pages:
        assert len(page.encode()) < MAX_REPORT_BYTES
        assert external_references(page) == []
        assert f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">' in page
    assert CONTENT_SECURITY_POLICY.startswith("default-src 'none';")
