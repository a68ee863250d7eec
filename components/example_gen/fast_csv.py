"""TFX's CsvExampleGen output for CSV files on one machine, through Arrow instead of per-row Beam.

Follows TFX 1.16 ``tfx/components/example_gen/csv_example_gen/executor.py`` and
``base_example_gen_executor.py`` step by step, so that every split holds the same tf.Examples:

- column names: the first line of each file, ``line.strip().split(',')`` (``tfx.utils.io_utils
  .load_csv_column_names``); all files must share them;
- rows: the lines after it, parsed as ``csv.reader`` does (TFX joins lines while quotes are unbalanced);
  blank lines skipped;
- types (``tfx_bsl.coders.csv_decoder.ColumnTypeInferrer``): per column the highest of int64 (Python
  ``int()`` within int64), float (Python ``float()``), bytes over all non-empty cells; no value at all:
  no kind; an empty cell gives an empty list of the column's kind;
- splits: the SHA-256 of each example's deterministic serialization (or of the partition feature's),
  modulo the total of the hash buckets, into the splits' cumulative buckets (``_PartitionFn``);
- files: gzipped TFRecords ``Split-<name>/data_tfrecord-SSSSS-of-NNNNN.gz`` (``write_split.WriteSplit``).

Arrow's C++ CSV reader reads the rows and types the cells by regular expressions whose matches Python's
``int()``/``float()`` read the same way. Whatever these cannot settle exactly raises ``Unsupported``
(naming why) before anything is written, and the caller runs TFX's executor instead: a quote that does
not open or close a field, a lone carriage return, a NUL, a byte-order mark, non-UTF-8 bytes, a ragged
row, a quote in the header, duplicate column names, or a number only Python reads (``" 5"``, ``1_000``,
``nan``). The files are cut at line ends (outside quotes) into pieces, which ``fast_example_gen`` gives
to one forked worker process per core.
"""

import os
import re
from dataclasses import dataclass
from typing import List, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as arrow_csv

from tfx_kfp.components.example_gen.validation import UTF8_BOM, value_type

INT_SYNTAX = r"^[+-]?[0-9]+$"  # every match is an int to Python's int(); its range is checked apart
FLOAT_SYNTAX = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"  # a float to Python's float()
# A field that opens and closes with a quote, quotes inside doubled: csv.reader and Arrow agree on it.
QUOTED_FIELD = re.compile(rb'(?:(?<=[,\n])|\A)"(?:[^"]|"")*"(?=[,\r\n]|\Z)')
UNKNOWN, INT, FLOAT, TEXT, PYTHON_ONLY = "unknown", "int", "float", "text", "python-only"
_ORDER = (UNKNOWN, INT, FLOAT, TEXT)
MIN_PIECE_BYTES = 8 << 20  # smaller inputs are read in this process: a fork costs more than it saves


class Unsupported(Exception):
    """The input is one whose TFX reading this module does not reproduce exactly (the message says why)."""


@dataclass(frozen=True)
class Piece:
    path: str
    start: int  # byte offsets into the file, at row boundaries after the header line
    end: int
    quoted: bool


def _header(path: str, data: bytes) -> List[str]:
    line = data[:data.find(b"\n") + 1 or len(data)]
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise Unsupported(f"{path}: the header line is not UTF-8") from None
    if '"' in text:
        raise Unsupported(f"{path}: a quote in the header line (TFX splits the header at every comma)")
    names = text.strip().split(",")
    if len(set(names)) != len(names) or "" in names:
        raise Unsupported(f"{path}: duplicate or empty column names in the header")
    return names


def _check_body(path: str, data: bytes, start: int) -> bool:
    """Whether the rows (``data`` from ``start``) hold quotes; Unsupported where csv.reader and Arrow could
    read them differently."""
    if data.startswith(UTF8_BOM, start):
        raise Unsupported(f"{path}: a byte-order mark after the header line")
    if data.find(b"\x00", start) >= 0:
        raise Unsupported(f"{path}: a NUL byte")
    if data.count(b"\r", start) != data.count(b"\r\n", start):
        raise Unsupported(f"{path}: a carriage return that does not end a line")
    if data.find(b'"', start) < 0:
        return False
    if b'"' in QUOTED_FIELD.sub(b"", data[start:]):
        raise Unsupported(f"{path}: a quote that does not open or close a field")
    return True


def _cuts(body: bytes, start: int, parts: int) -> List[int]:
    """Offsets cutting ``body`` (from ``start``) into about ``parts`` pieces at line ends outside quotes."""
    cuts, size = [start], len(body)
    quotes, counted = 0, start
    for part in range(1, parts):
        at = max(start + (size - start) * part // parts, cuts[-1])
        while True:
            end = body.find(b"\n", at)
            if end < 0:
                break
            quotes += body.count(b'"', counted, end)
            counted = end
            if quotes % 2 == 0:
                break
            at = end + 1
        if end < 0:
            break
        if end + 1 > cuts[-1] and end + 1 < size:
            cuts.append(end + 1)
    return cuts + [size]


def plan(files: Sequence[str], workers: int, min_piece_bytes: int = MIN_PIECE_BYTES):
    """(column names, pieces, file contents) of the CSV files; Unsupported where TFX's reading may differ."""
    names, pieces, contents = None, [], {}
    total = sum(os.path.getsize(path) for path in files)
    target = max(min_piece_bytes, -(-total // max(workers, 1)))
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        file_names = _header(path, data)
        if names not in (None, file_names):
            raise Unsupported(f"{path}: its header differs from {files[0]}'s")
        names = file_names
        start = data.find(b"\n") + 1 or len(data)
        quoted = _check_body(path, data, start)
        contents[path] = data
        cuts = _cuts(data, start, max(1, -(-(len(data) - start) // target)))
        pieces += [Piece(path, a, b, quoted) for a, b in zip(cuts, cuts[1:]) if b > a]
    return names, pieces, contents


def read_piece(piece: Piece, data: bytes, names: List[str]) -> pa.Table:
    """The piece's cells as text (Arrow checks they are UTF-8), columns named by position."""
    chunk = memoryview(data)[piece.start:piece.end]
    if bytes(chunk[:3]) == UTF8_BOM:  # Arrow would drop it; TFX keeps it in the first cell
        raise Unsupported(f"{piece.path}: a byte-order mark at the start of a row")
    columns = [str(index) for index in range(len(names))]
    try:
        return arrow_csv.read_csv(
            pa.BufferReader(pa.py_buffer(chunk)),
            read_options=arrow_csv.ReadOptions(column_names=columns, use_threads=False, block_size=1 << 24),
            parse_options=arrow_csv.ParseOptions(newlines_in_values=piece.quoted),
            convert_options=arrow_csv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                                     strings_can_be_null=False,
                                                     quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise Unsupported(f"{piece.path}: Arrow's CSV reader refused bytes {piece.start}-{piece.end}: {e}") from None


def without_plus(values):
    return pc.replace_substring_regex(values, r"^\+", "")


def column_kind(column) -> str:
    """TFX's type of the column's values (``tfx_bsl`` ``_InferValueType``, highest wins); PYTHON_ONLY
    where a value is a number that only Python's rules read."""
    values = pc.filter(column, pc.not_equal(column, ""))
    if not len(values):
        return UNKNOWN
    floats = pc.match_substring_regex(values, FLOAT_SYNTAX)
    if not pc.all(floats).as_py():
        others = pc.unique(pc.filter(values, pc.invert(floats)))
        return TEXT if any(value_type(v) == "text" for v in others.to_pylist()) else PYTHON_ONLY
    ints = pc.match_substring_regex(values, INT_SYNTAX)
    int_values = pc.filter(values, ints)
    try:
        pc.cast(without_plus(int_values), pa.int64())
    except pa.ArrowInvalid:  # beyond int64: text to TFX; else a form Arrow does not take
        return TEXT if any(value_type(v) == "text" for v in pc.unique(int_values).to_pylist()) else PYTHON_ONLY
    if len(int_values) == len(values):
        return INT
    try:
        pc.cast(without_plus(pc.filter(values, pc.invert(ints))), pa.float64())
    except pa.ArrowInvalid:
        return PYTHON_ONLY
    return FLOAT


def merge_kinds(names: List[str], kinds_per_piece: Sequence[Sequence[str]]) -> List[str]:
    """The column types over all pieces; Unsupported if one depends on a number only Python reads."""
    merged = []
    for index, name in enumerate(names):
        kinds = {kinds[index] for kinds in kinds_per_piece}
        if TEXT not in kinds and PYTHON_ONLY in kinds:
            raise Unsupported(f"column {name!r}: a number in a form only Python's int()/float() read "
                              f"(spaces, underscores, inf, nan)")
        merged.append(max(kinds - {PYTHON_ONLY}, key=_ORDER.index, default=UNKNOWN))
    return merged
