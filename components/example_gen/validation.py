"""Checks input files before ExampleGen so bad data fails with a readable message."""

import csv
import glob
import os
from typing import List

from tfx_kfp.runtime.errors import InputError

CSV_PATTERN = "*.csv"
TFRECORD_PATTERNS = ("*.tfrecord", "*.tfrecord.gz", "*.tfrecords", "*.gz")


def _require_dir(data_root: str) -> None:
    if not data_root:
        raise InputError("data_root", "a data directory is required", received="an empty string")
    if not os.path.exists(data_root):
        raise InputError(data_root, "data directory does not exist")
    if not os.path.isdir(data_root):
        raise InputError(data_root, "data_root must be a directory of input files, not a file")


def check_csv_dir(data_root: str, label_key: str = "") -> List[str]:
    """Validates every CSV file in ``data_root``.

    Rules: at least one ``*.csv`` file; each has a header row and at least one data row; every row
    has as many values as the header has columns; all files share one header; the label column,
    if named, is in the header.

    Returns:
        The header's column names.

    Raises:
        InputError: naming the file, line or column that broke a rule.
    """
    _require_dir(data_root)
    files = sorted(glob.glob(os.path.join(data_root, CSV_PATTERN)))
    if not files:
        found = sorted(os.listdir(data_root))[:5]
        raise InputError(data_root, f"no {CSV_PATTERN} files found", received=f"{found}" if found else "an empty directory")
    header: List[str] = []
    for path in files:
        with open(path, newline="") as f:
            reader = csv.reader(f)
            file_header = next(reader, None)
            if not file_header or not any(cell.strip() for cell in file_header):
                raise InputError(path, "CSV file is empty: expected a header row and at least one data row")
            if len(set(file_header)) != len(file_header):
                dupes = sorted({c for c in file_header if file_header.count(c) > 1})
                raise InputError(path, "CSV header has duplicate column names", received=", ".join(dupes))
            rows = 0
            for row in reader:
                if not row:
                    continue
                rows += 1
                if len(row) != len(file_header):
                    raise InputError(
                        path,
                        f"line {reader.line_num} has {len(row)} values; the header has {len(file_header)} columns",
                    )
            if rows == 0:
                raise InputError(path, "CSV file has a header but no data rows")
        if header and file_header != header:
            raise InputError(path, f"header differs from {files[0]}", received=",".join(file_header))
        header = file_header
    if label_key and label_key not in header:
        raise InputError(files[0], "label column is missing from the CSV header", field=label_key,
                         received=",".join(header))
    return header


def check_tfrecord_dir(data_root: str, label_key: str = "") -> List[str]:
    """Validates a folder of tf.Example TFRecord files; returns the files found."""
    _require_dir(data_root)
    files = sorted({p for pattern in TFRECORD_PATTERNS for p in glob.glob(os.path.join(data_root, pattern))})
    if not files:
        raise InputError(data_root, f"no TFRecord files found (looked for {', '.join(TFRECORD_PATTERNS)})")
    import tensorflow as tf

    compression = "GZIP" if files[0].endswith(".gz") else ""
    first = next(iter(tf.data.TFRecordDataset(files[0], compression_type=compression).take(1)), None)
    if first is None:
        raise InputError(files[0], "TFRecord file holds no records")
    example = tf.train.Example()
    try:
        example.ParseFromString(first.numpy())
    except Exception as e:  # a DecodeError or a corrupt record
        raise InputError(files[0], "records must be serialized tf.Example protos", received=str(e)) from e
    if label_key and label_key not in example.features.feature:
        raise InputError(files[0], "label feature is missing from the tf.Examples", field=label_key,
                         received=",".join(sorted(example.features.feature)))
    return files
