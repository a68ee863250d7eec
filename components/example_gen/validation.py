"""Checks input files before ExampleGen so bad data fails with a readable message."""

import csv
import glob
import os
from typing import Dict, Iterator, List, Optional, Tuple

from tfx_kfp.components.example_gen import csv_records
from tfx_kfp.runtime.errors import InputError
from tfx_kfp.serving.versions import INT64_MAX, INT64_MIN

CSV_PATTERN = "*.csv"
TFRECORD_PATTERNS = ("*.tfrecord", "*.tfrecord.gz", "*.tfrecords", "*.gz")
UTF8_BOM = b"\xef\xbb\xbf"


def require_dir(data_root: str) -> None:
    """``data_root`` names an existing folder; else an InputError that says what it is instead."""
    if not data_root:
        raise InputError("data_root", "a data directory is required", received="an empty string")
    if not os.path.exists(data_root):
        raise InputError(data_root, "data directory does not exist", field="data_root")
    if not os.path.isdir(data_root):
        what = "a file" if os.path.isfile(data_root) else "not a directory"
        raise InputError(data_root, f"this is {what}: data_root must be the directory holding the input files"
                         + (f" (here {os.path.dirname(data_root) or '.'!r})" if os.path.isfile(data_root) else ""),
                         field="data_root")


class _NotUtf8(Exception):
    def __init__(self, line: int, character: int, field: int, byte: int):
        super().__init__(line, character, field, byte)
        self.line, self.character, self.field, self.byte = line, character, field, byte


def _decoded_lines(path: str) -> Iterator[str]:
    """The file's lines as text; a BOM or a byte that is not UTF-8 fails naming line and column."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1 and raw.startswith(UTF8_BOM):
                raise InputError(path, "line 1, column 1: the file starts with a UTF-8 byte-order mark (BOM); "
                                 "TFX's CSV reader keeps it as part of the first column's name "
                                 "(so that column would not be found): save the file as UTF-8 without a BOM")
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as e:
                before = raw[:e.start].decode("utf-8", errors="replace")
                field = max(1, len(next(csv.reader([before]), [])))
                raise _NotUtf8(number, len(before) + 1, field, raw[e.start]) from e


def value_type(value: str) -> str:
    """"int", "float" or "text", as TFX's CSV reader types a value (tfx_bsl.coders.csv_decoder._InferValueType).

    Restated because importing tfx_bsl's CSV decoder imports Apache Beam; a beam-tier test checks they agree.
    """
    try:
        return "int" if INT64_MIN <= int(value.encode()) <= INT64_MAX else "text"
    except ValueError:
        try:
            float(value.encode())
        except ValueError:
            return "text"
        return "float"


class _ColumnTypes:
    """Per column: how many values are numbers and how many text, and where the first text value is."""

    def __init__(self):
        self.numbers: Dict[str, int] = {}
        self.texts: Dict[str, int] = {}
        self.first_text: Dict[str, Tuple[str, int, int, str]] = {}
        self.first_number: Dict[str, Tuple[str, int, str]] = {}

    def add(self, path: str, line: int, header: List[str], row: List[str]) -> None:
        for index, (name, value) in enumerate(zip(header, row)):
            if not value:
                continue  # a missing value
            if value_type(value) == "text":
                self.texts[name] = self.texts.get(name, 0) + 1
                self.first_text.setdefault(name, (path, line, index + 1, value))
            else:
                self.numbers[name] = self.numbers.get(name, 0) + 1
                self.first_number.setdefault(name, (path, line, value))

    def check(self) -> None:
        """A column whose values are mostly numbers must hold only numbers (or empty values)."""
        for name, texts in self.texts.items():
            numbers = self.numbers.get(name, 0)
            if numbers > texts:
                path, line, column, value = self.first_text[name]
                number_path, number_line, number = self.first_number[name]
                raise InputError(
                    path, f"line {line}, column {column}: {value!r} is not a number, but {numbers} of the "
                    f"column's values are (e.g. {number!r} at {number_path} line {number_line}); TFX types a column "
                    f"with any text value as text (tf.string) for every row: fix or empty this value",
                    field=name)


def _check_csv_file(path: str, columns: _ColumnTypes) -> List[str]:
    header: List[str] = []
    lines = csv_records.RecordLines(_decoded_lines(path))
    try:
        reader = csv.reader(lines)
        header = next(reader, None) or []
        lines.row_done()
        if not any(cell.strip() for cell in header):
            raise InputError(path, "CSV file is empty: expected a header row and at least one data row")
        if len(set(header)) != len(header):
            dupes = sorted({c for c in header if header.count(c) > 1})
            raise InputError(path, "CSV header has duplicate column names", received=", ".join(dupes))
        rows = 0
        for row in reader:
            lines.row_done()
            if not row:
                continue
            rows += 1
            if len(row) != len(header):
                raise InputError(
                    path, f"line {reader.line_num} has {len(row)} values; the header has {len(header)} columns")
            columns.add(path, reader.line_num, header, row)
    except csv.Error as e:
        if "field larger than field limit" not in str(e):
            raise InputError(path, f"line {lines.first_line}: not valid CSV", received=str(e)) from None
        name, length = csv_records.oversized_field("".join(lines.current), header)
        raise InputError(path, f"line {lines.first_line}: a value of {length} characters is longer than the "
                         f"{csv_records.field_size_limit()} TFX's CSV reader takes (tfx_bsl reads CSV with Python's "
                         f"csv module and its default field size limit): shorten the value or read the data as "
                         f"TFRecords", field=name) from None
    except _NotUtf8 as e:
        name = header[e.field - 1] if e.field <= len(header) else None
        raise InputError(path, f"line {e.line}, column {e.field}, character {e.character}: byte 0x{e.byte:02x} "
                         f"is not UTF-8 text: save the file as UTF-8", field=name) from None
    if rows == 0:
        raise InputError(path, "CSV file has a header but no data rows")
    return header


def check_csv_dir(data_root: str, label_key: str = "") -> List[str]:
    """Validates every CSV file in ``data_root``.

    Rules: at least one ``*.csv`` file; each is UTF-8 text without a byte-order mark, with a header row
    and at least one data row; every row has as many values as the header has columns; all files share
    one header; a column whose values are mostly numbers holds only numbers (or empty values); the label
    column, if named, is in the header.

    Returns:
        The header's column names.

    Raises:
        InputError: naming the file, line or column that broke a rule.
    """
    require_dir(data_root)
    files = sorted(glob.glob(os.path.join(data_root, CSV_PATTERN)))
    if not files:
        found = sorted(os.listdir(data_root))[:5]
        raise InputError(data_root, f"no {CSV_PATTERN} files found", received=f"{found}" if found else "an empty directory")
    return check_csv_files(files, label_key)


def _read_header(path: str) -> Optional[List[str]]:
    """The first line's column names, or None where it is not plain UTF-8 CSV (the exact check says why)."""
    with open(path, "rb") as f:
        first = f.readline()
    if first.startswith(UTF8_BOM):
        return None
    try:
        return next(csv.reader([first.decode("utf-8")]), None)
    except UnicodeDecodeError:
        return None


def _has_quote(path: str) -> bool:
    with open(path, "rb") as f:
        return any(b'"' in chunk for chunk in iter(lambda: f.read(1 << 24), b""))


def _column_counts(column) -> Optional[Tuple[int, int]]:
    """(numbers, texts) among a text column's non-empty values as TFX types them; None where unsure."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pc.filter(column, pc.not_equal(column, ""))
    if len(values) and pc.max(pc.utf8_length(values)).as_py() > csv_records.field_size_limit():
        return None  # TFX's reader refuses it: the exact check names where
    try:
        parsed = pc.cast(values, pa.float64())  # Arrow parses a subset of what Python's float() takes
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    else:
        largest = pc.max(pc.abs(parsed)).as_py() if len(values) else 0
        # An integer literal beyond int64 is text to TFX: let the exact check see such values.
        return (len(values), 0) if largest is not None and largest < 2.0 ** 63 else None
    numbers = texts = 0
    for entry in pc.value_counts(values).to_pylist():  # distinct values: few in a text column
        if value_type(entry["values"]) == "text":
            texts += entry["counts"]
        else:
            numbers += entry["counts"]
    return numbers, texts


def _check_with_arrow(files: List[str], label_key: str) -> Optional[List[str]]:
    """The rules of ``check_csv_dir`` through Arrow's C++ CSV reader; the header if every file keeps them,
    None where a rule may be broken or Arrow's reading could differ from Python's ``csv`` (quotes).

    Written out because the exact check (``_check_csv_file``) types every value in Python: 19 s for
    TFX's taxi CSV at 1.5M rows, against under a second here. Its messages stay the exact check's: any
    doubt sends the files there.
    """
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    header: Optional[List[str]] = None
    counts: Dict[str, List[int]] = {}
    for path in files:
        file_header = _read_header(path)
        if not file_header or len(set(file_header)) != len(file_header) or header not in (None, file_header):
            return None
        # Every column read as text and typed here: Arrow's own inference sees only the first block.
        options = arrow_csv.ConvertOptions(column_types={name: pa.string() for name in file_header},
                                           strings_can_be_null=False)
        if _has_quote(path):
            return None
        rows = 0
        try:  # batch by batch: memory stays bounded whatever the file's size
            for batch in arrow_csv.open_csv(path, convert_options=options):
                if batch.schema.names != file_header:
                    return None
                rows += batch.num_rows
                for name, column in zip(file_header, batch.columns):
                    column_counts = _column_counts(column)
                    if column_counts is None:
                        return None
                    total = counts.setdefault(name, [0, 0])
                    total[0], total[1] = total[0] + column_counts[0], total[1] + column_counts[1]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. a ragged row, a later block's other type
            return None
        if rows == 0:
            return None
        header = file_header
    if header is None or (label_key and label_key not in header):
        return None
    if any(texts and numbers > texts for numbers, texts in counts.values()):
        return None
    return header


def check_csv_files(files: List[str], label_key: str = "") -> List[str]:
    """Validates the given CSV files by the rules of ``check_csv_dir``; returns the header's column names."""
    checked = _check_with_arrow(files, label_key)
    return checked if checked is not None else check_csv_files_exactly(files, label_key)


def check_csv_files_exactly(files: List[str], label_key: str = "") -> List[str]:
    """``check_csv_files`` value by value in Python: the messages name the file, line and column."""
    header: List[str] = []
    columns = _ColumnTypes()
    for path in files:
        file_header = _check_csv_file(path, columns)
        if header and file_header != header:
            raise InputError(path, f"header differs from {files[0]}", received=",".join(file_header))
        header = file_header
    if label_key and label_key not in header:
        raise InputError(files[0], "label column is missing from the CSV header", field=label_key,
                         received=",".join(header))
    columns.check()
    return header


def check_tfrecord_dir(data_root: str, label_key: str = "") -> List[str]:
    """Validates a folder of tf.Example TFRecord files; returns the files found."""
    require_dir(data_root)
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
