"""fast_csv's rules (components/example_gen/fast_csv.py): which inputs it hands to TFX's executor, how it
types columns, cuts files and hashes rows. Its outputs against TFX's: tests/executors/test_example_gen_fast.py."""

import bisect
import hashlib

import numpy as np
import pyarrow as pa
import pytest

from tfx_kfp.components.example_gen import example_wire, fast_csv, fast_example_gen


def _plan(tmp_path, data: bytes, workers: int = 1, min_piece_bytes: int = fast_csv.MIN_PIECE_BYTES):
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    return fast_csv.plan([str(path)], workers, min_piece_bytes)


def _read_all(tmp_path, data: bytes):
    names, pieces, contents = _plan(tmp_path, data)
    return [fast_csv.read_piece(piece, contents[piece.path], names) for piece in pieces]


@pytest.mark.parametrize("data, reason", [
    (b'"a",b\n1,2\n', "quote in the header"),
    (b"a,a\n1,2\n", "duplicate or empty column names"),
    (b"a,,b\n1,2,3\n", "duplicate or empty column names"),
    (b'a,b\n1,x"y\n', "quote that does not open or close"),
    (b'a,b\n1,"x"y\n', "quote that does not open or close"),
    (b'a,b\n1, "x"\n', "quote that does not open or close"),
    (b"a,b\n1,x\ry\n", "carriage return"),
    (b"a,b\n1,x\x00\n", "NUL"),
    (b"a,b\n\xef\xbb\xbf1,2\n", "byte-order mark"),
])
def test_inputs_tfx_may_read_otherwise_are_refused_before_anything_is_written(tmp_path, data, reason):
    with pytest.raises(fast_csv.Unsupported, match=reason):
        _plan(tmp_path, data)


@pytest.mark.parametrize("data", [b"a,b\n1,\xff\n", b"a,b\n1,2\n3\n", b"a,b\n1,2,3\n"])
def test_bytes_arrow_refuses_are_refused(tmp_path, data):
    with pytest.raises(fast_csv.Unsupported, match="Arrow's CSV reader refused"):
        _read_all(tmp_path, data)


@pytest.mark.parametrize("values, kind", [
    (["", ""], fast_csv.UNKNOWN),
    (["1", "-2", "+3", "007", "", "-9223372036854775808", "9223372036854775807"], fast_csv.INT),
    (["1", "2.5", "1e5", ".5", "5.", "-1E-3", "+2.0"], fast_csv.FLOAT),
    (["1", "9223372036854775808"], fast_csv.TEXT),  # beyond int64: text to TFX
    (["1", "0x10"], fast_csv.TEXT),  # Arrow would read 16; Python's int() does not
    (["1", "a"], fast_csv.TEXT),
    (["1", " 5"], fast_csv.PYTHON_ONLY),
    (["1", "1_000"], fast_csv.PYTHON_ONLY),
    (["1.5", "nan"], fast_csv.PYTHON_ONLY),
    (["1.5", "-inf"], fast_csv.PYTHON_ONLY),
])
def test_column_kinds_follow_tfx_bsl(values, kind):
    assert fast_csv.column_kind(pa.chunked_array([pa.array(values, pa.string())])) == kind


def test_text_anywhere_makes_a_column_text_and_a_python_only_number_alone_is_refused():
    assert fast_csv.merge_kinds(["x", "y"], [["int", "python-only"], ["float", "text"]]) == ["float", "text"]
    with pytest.raises(fast_csv.Unsupported, match="'y'"):
        fast_csv.merge_kinds(["x", "y"], [["int", "python-only"], ["int", "int"]])


def test_files_are_cut_at_line_ends_outside_quotes(tmp_path):
    rows = b"".join(b'%d,"multi\nline, %d"\n' % (i, i) for i in range(200))
    names, pieces, contents = _plan(tmp_path, b"a,b\n" + rows, workers=4, min_piece_bytes=1)
    assert len(pieces) == 4
    tables = [fast_csv.read_piece(piece, contents[piece.path], names) for piece in pieces]
    assert [v for t in tables for v in t.column(1).to_pylist()] == [f"multi\nline, {i}" for i in range(200)]


def test_varints_are_protobufs():
    values = np.array([0, 1, 127, 128, 300, -1, 2**63 - 1], np.int64)
    got = example_wire.assemble([example_wire.varints(values)], len(values)).to_pylist()
    assert got == [b"\x00", b"\x01", b"\x7f", b"\x80\x01", b"\xac\x02", b"\xff" * 9 + b"\x01", b"\xff" * 8 + b"\x7f"]


def test_splits_are_tfx_partition_fn_buckets():
    keys = [b"row %d" % i for i in range(500)]
    buckets = [2, 3]
    expected = [bisect.bisect(buckets, int(hashlib.sha256(k).hexdigest(), 16) % buckets[-1]) for k in keys]
    assert fast_example_gen._split_indexes(keys, np.array(buckets)).tolist() == expected
