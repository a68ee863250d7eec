"""ExampleGen input patterns with {SPAN}: the latest span by default, a range on request (TFX semantics)."""

import csv
import json
import os

import pytest

from tests._support import chain
from tfx_kfp.runtime.errors import InputError


def _span_folders(root, spans=(1, 2)):
    """The penguin CSV dealt into span-1/, span-2/ … (every row in exactly one span)."""
    with open(os.path.join(chain.PENGUIN_DATA, "penguins_processed.csv")) as f:
        header, *rows = list(csv.reader(f))
    for index, span in enumerate(spans):
        folder = root / f"span-{span}"
        folder.mkdir(parents=True)
        with open(folder / "data.csv", "w", newline="") as f:
            csv.writer(f).writerows([header] + rows[index::len(spans)])
    return len(rows)


def _count(examples):
    import tensorflow as tf

    total = 0
    for split in ("train", "eval"):
        files = tf.io.gfile.glob(os.path.join(examples.path, f"Split-{split}", "*"))
        total += sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))
    return total


def test_the_latest_span_is_read_by_default_and_recorded(tmp_path):
    rows = _span_folders(tmp_path / "data")
    examples = chain.run_example_gen(str(tmp_path / "out"), data_root=str(tmp_path / "data"),
                                     input_pattern="span-{SPAN}/*.csv")
    assert examples.metadata["span"] == 2 and json.loads(examples.metadata["spans"]) == [2]
    assert _count(examples) == rows // 2


def test_a_span_range_reads_every_span_in_it(tmp_path):
    rows = _span_folders(tmp_path / "data")
    examples = chain.run_example_gen(str(tmp_path / "out"), data_root=str(tmp_path / "data"),
                                     input_pattern="span-{SPAN}/*.csv", span_range=[1, 2])
    assert examples.metadata["span"] == 2 and json.loads(examples.metadata["spans"]) == [1, 2]
    assert _count(examples) == rows


def test_a_range_with_a_missing_span_names_it(tmp_path):
    _span_folders(tmp_path / "data", spans=(1, 3))
    with pytest.raises(InputError, match="selects no files for span 2"):
        chain.run_example_gen(str(tmp_path / "out"), data_root=str(tmp_path / "data"),
                              input_pattern="span-{SPAN}/*.csv", span_range=[1, 3])


def _folders(root, names):
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "data.csv").write_text("species,x\n0,1\n1,2\n")


def test_a_stray_folder_whose_span_is_not_a_number_is_named(tmp_path):
    from tfx_kfp.components.resolve_inputs import executor as resolve_inputs

    _folders(tmp_path, ["span-1", "span-abc"])
    for resolve in (lambda: resolve_inputs.run(data_root=str(tmp_path), input_format="csv",
                                               input_pattern="span-{SPAN}/*.csv", span_range=[]),
                    lambda: chain.run_example_gen(str(tmp_path / "out"), data_root=str(tmp_path),
                                                  input_pattern="span-{SPAN}/*.csv")):
        with pytest.raises(InputError, match=r"matches input pattern 'span-\{SPAN\}/\*\.csv' but its \{SPAN\} part "
                           "is not a number") as error:
            resolve()
        assert error.value.path == str(tmp_path / "span-abc" / "data.csv")
        assert "selects no files" not in str(error.value)


def test_a_date_that_is_not_a_calendar_date_is_named(tmp_path):
    from tfx_kfp.components.example_gen import spans

    _folders(tmp_path, ["20240101", "20241345"])
    with pytest.raises(InputError, match="part is not a calendar date") as error:
        spans.select(str(tmp_path), "{YYYY}{MM}{DD}/*.csv")
    assert error.value.path == str(tmp_path / "20241345" / "data.csv")


def test_a_span_beyond_int64_is_named_not_a_bare_value_error(tmp_path):
    from tfx_kfp.components.resolve_inputs import executor as resolve_inputs

    _folders(tmp_path, ["span-1", "span-12345678901234567890123"])
    with pytest.raises(InputError, match="the span number 12345678901234567890123 is larger than "
                       "9223372036854775807") as error:
        resolve_inputs.run(data_root=str(tmp_path), input_format="csv", input_pattern="span-{SPAN}/*.csv",
                           span_range=[])
    assert error.value.path == str(tmp_path / "span-12345678901234567890123" / "data.csv")


def test_a_file_as_data_root_is_said_to_be_a_file(tmp_path):
    from tfx_kfp.components.resolve_inputs import executor as resolve_inputs

    _folders(tmp_path, ["data"])
    data_file = str(tmp_path / "data" / "data.csv")
    with pytest.raises(InputError, match="this is a file: data_root must be the directory") as error:
        resolve_inputs.run(data_root=data_file, input_format="csv", input_pattern="", span_range=[])
    assert error.value.path == data_file and "does not exist" not in str(error.value)
