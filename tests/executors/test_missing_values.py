"""A CSV column blank in most rows (issue 18 item 3): shown as missing, treated as TFX treats it, and a
model that fails on it fails naming the column, the TensorFlow error and TFX's remedy."""

import csv
import html
import os

import pytest

from tests._support import chain
from tests._support.report_samples import html_tables
from tfx_kfp.reports._html import format_percent
from tfx_kfp.runtime import reports
from tfx_kfp.components.model_failures import ModelDataError

BLANK = "culmen_depth_mm"


@pytest.fixture(scope="module")
def blank_run(tmp_path_factory):
    """The penguin CSV (342 rows) with ``culmen_depth_mm`` blank in 9 rows of 10, through SchemaGen."""
    root = tmp_path_factory.mktemp("blank")
    data, out = root / "data", str(root / "run")
    data.mkdir()
    with open(os.path.join(chain.PENGUIN_DATA, "penguins_processed.csv")) as f:
        header, *rows = list(csv.reader(f))
    column = header.index(BLANK)
    for index, row in enumerate(rows):
        if index % 10:
            row[column] = ""
    with open(data / "penguins.csv", "w", newline="") as f:
        csv.writer(f).writerows([header] + rows)
    chain.run_example_gen(out, str(data))
    chain.run_statistics_gen(out, out)
    chain.run_schema_gen(out, out)
    blanks = sum(1 for row in rows if not row[column])
    return {"out": out, "rows": len(rows), "blanks": blanks}


def _feature_table(page: str, name: str):
    return next(t for t in html_tables(page) if t["caption"] == f"{name} by split")


def test_the_statistics_report_shows_the_blank_cells_as_no_value(blank_run):
    page = open(os.path.join(blank_run["out"], "reports", "statistics.html")).read()
    table = _feature_table(page, BLANK)
    assert table["rows"][0][1:3] == ["With value", "No value"]
    stats = reports.read_statistics(os.path.join(blank_run["out"], "statistics"))
    shown = {}
    for row in table["rows"][1:]:
        split, with_value, no_value = row[0], row[1], row[2]
        examples = stats[split].datasets[0].num_examples
        count = int(no_value.split(" (")[0].replace(",", ""))
        assert int(with_value.replace(",", "")) == examples - count
        assert no_value == f"{count} ({format_percent(count / examples)})"
        shown[split] = count
    assert sum(shown.values()) == blank_run["blanks"]  # every blank cell, none else
    text = html.unescape(page)
    train_examples = stats["train"].datasets[0].num_examples
    assert f"{shown['train']} of {train_examples} train examples" in text
    assert f"'{BLANK}' has no value in " in text and "_fill_in_missing" in text
    other = _feature_table(page, "body_mass_g")
    assert all(row[2] == "0 (0 %)" for row in other["rows"][1:])


def test_schema_and_validation_are_tfxs_own_and_name_the_column(blank_run):
    import tensorflow_data_validation as tfdv

    out = blank_run["out"]
    stats = reports.read_statistics(os.path.join(out, "statistics"))
    schema = reports.read_schema(os.path.join(out, "schema"))
    # TFX's SchemaGen infers from the train split; TFDV says the same on the same statistics.
    assert schema == tfdv.infer_schema(stats["train"], infer_feature_shape=True)
    blank = tfdv.get_feature(schema, BLANK)
    assert blank.presence.min_fraction == 1.0 and not blank.HasField("shape")  # present (empty), no fixed shape
    markdown = open(os.path.join(out, "reports", "schema.md")).read()
    assert "## Features with no value in some examples" in markdown and BLANK.replace("_", r"\_") in markdown
    anomalies = chain.run_example_validator(out, out)  # TFX finds no anomaly: not failed on
    assert anomalies.metadata["anomaly_count"] == sum(
        len(tfdv.validate_statistics(stats[split], schema).anomaly_info) for split in stats) == 0
    page = html.unescape(open(os.path.join(out, "reports", "anomalies.html")).read())
    assert f"'{BLANK}' has no value in" in page and "Not an anomaly to TFX" in page


def test_a_model_that_cannot_take_the_blanks_fails_naming_the_column_and_the_tf_error(blank_run):
    out = blank_run["out"]
    chain.run_transform(out, out)
    with pytest.raises(ModelDataError) as error:
        chain.run_trainer(out, out, train_steps=5)
    message = str(error.value)
    assert message.startswith("trainer: the model failed on the examples: InvalidArgumentError: ")
    assert f"features with no value in some examples: '{BLANK}'" in message
    assert "fill the missing values there" in message and "_fill_in_missing" in message
    from tfx_kfp.local.failures import summary_lines

    summary = "\n".join(summary_lines("trainer", error.value))  # what a run prints: column and remedy kept
    assert f"'{BLANK}'" in summary and "_fill_in_missing" in summary and "Graph execution error" not in summary
    assert not os.path.exists(os.path.join(out, "model"))  # nothing half-written


def test_the_evaluator_finds_the_columns_in_its_eval_examples(blank_run):
    """The Evaluator has no schema: after a model failure it reads its eval examples for the columns."""
    from tfx_kfp.components.model_failures import features_without_values_in_examples

    stats = reports.read_statistics(os.path.join(blank_run["out"], "statistics"))
    eval_examples = stats["eval"].datasets[0].num_examples
    counts, seen = features_without_values_in_examples(os.path.join(blank_run["out"], "examples"))
    assert seen == eval_examples
    no_value = [f for f in stats["eval"].datasets[0].features if f.path.step[0] == BLANK][0].num_stats.common_stats
    assert counts == {BLANK: eval_examples - no_value.tot_num_values}
