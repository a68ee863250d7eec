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
