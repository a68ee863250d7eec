"""Serialized tf.Examples and gzipped TFRecord files built column by column in Arrow and numpy.

Why not tfx-bsl's ``RecordBatchToExamplesEncoder``: TFX's ExampleGen assigns a split by hashing each
example's *deterministic* serialization (map keys sorted; TFX 1.16
``base_example_gen_executor._GeneratePartitionKey``), and the C++ coder emits the features in its
map's hash order instead, so using it would still take a per-row parse and re-serialization in
Python. Here the bytes are those of ``SerializeToString(deterministic=True)`` for the tf.Example that
TFX's ``csv_example_gen.executor._ParsedCsvToTfExample`` builds (protobuf wire format: map entries as
``{1: key, 2: Feature}``, packed scalar lists), assembled per column without a Python loop per row.
A beam-tier test compares them with protobuf's own serialization.
"""

import zlib
from typing import List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# tf.train.Feature's oneof field tags (tensorflow/core/example/feature.proto), length-delimited:
BYTES_LIST, FLOAT_LIST, INT64_LIST = b"\x0a", b"\x12", b"\x1a"
VALUE = b"\x0a"  # field 1 of BytesList/FloatList/Int64List; of Example (features); of a map entry (key)
MAP_VALUE = b"\x12"  # field 2 of a map entry
_EMPTY = pa.scalar(b"", pa.binary())


def varints(values: np.ndarray) -> pa.Array:
    """Protobuf base-128 varints of ``values`` (int64 as two's complement, as protobuf writes int64)."""
    values = np.ascontiguousarray(values).astype(np.int64, copy=False).view(np.uint64)
    groups = np.empty((len(values), 10), np.uint8)
    rest = values.copy()
    for index in range(10):
        groups[:, index] = (rest & np.uint64(0x7F)).astype(np.uint8)
        rest >>= np.uint64(7)
    lengths = np.ones(len(values), np.int32)
    for index in range(1, 10):
        lengths += values >= (np.uint64(1) << np.uint64(7 * index))
    continued = np.arange(10)[None, :] < (lengths[:, None] - 1)
    groups |= (continued * 0x80).astype(np.uint8)
    used = np.arange(10)[None, :] < lengths[:, None]
    offsets = np.zeros(len(values) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.binary(), len(values), [None, pa.py_buffer(offsets),
                                                            pa.py_buffer(groups[used])])


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, _EMPTY)


def _lengths(array: pa.Array) -> np.ndarray:
    return pc.binary_length(array).to_numpy(zero_copy_only=False).astype(np.int64)


def _length_prefixed(tag: bytes, payload: pa.Array) -> pa.Array:
    return _join(pa.scalar(tag, pa.binary()), varints(_lengths(payload)), payload)


def _where(missing: np.ndarray, empty: bytes, present: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(missing), pa.scalar(empty, pa.binary()), present)


def int64_features(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    """``Feature(int64_list=[v])`` per row; ``Feature(int64_list=[])`` where ``missing`` (an empty cell)."""
    return _where(missing, INT64_LIST + b"\x00",
                  _length_prefixed(INT64_LIST, _length_prefixed(VALUE, varints(values))))


def float_features(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    """``Feature(float_list=[v])`` per row (``values`` float32), ``float_list=[]`` where ``missing``."""
    little_endian = np.ascontiguousarray(values, dtype="<f4")
    packed = pa.Array.from_buffers(pa.binary(), len(values), [
        None, pa.py_buffer(np.arange(0, 4 * len(values) + 1, 4, dtype=np.int32)), pa.py_buffer(little_endian)])
    return _where(missing, FLOAT_LIST + b"\x00", _join(pa.scalar(FLOAT_LIST + b"\x06" + VALUE + b"\x04", pa.binary()), packed))


def bytes_features(values: pa.Array, missing: np.ndarray) -> pa.Array:
    """``Feature(bytes_list=[v])`` per row, ``bytes_list=[]`` where ``missing``."""
    values = values.cast(pa.binary())
    return _where(missing, BYTES_LIST + b"\x00",
                  _length_prefixed(BYTES_LIST, _length_prefixed(VALUE, values)))


def empty_features(rows: int) -> pa.Array:
    """``Feature()`` (no kind): TFX's value for a column with no value in any row."""
    return pa.Array.from_buffers(pa.binary(), rows, [None, pa.py_buffer(np.zeros(rows + 1, np.int32)),
                                                     pa.py_buffer(b"")])


def _map_entry(name: str, features: pa.Array) -> pa.Array:
    key = name.encode("utf-8")
    head = VALUE + bytes(varints(np.array([len(key)])).buffers()[2].to_pybytes()) + key + MAP_VALUE
    body = _join(pa.scalar(head, pa.binary()), varints(_lengths(features)), features)
    return _length_prefixed(VALUE, body)


def examples(columns: Sequence[Tuple[str, pa.Array]]) -> pa.Array:
    """Serialized ``tf.train.Example`` per row with the features of ``columns`` ((name, Feature bytes)),
    in the order given: sorted by name, they are the deterministic serialization."""
    entries = [_map_entry(name, features) for name, features in columns]
    return _length_prefixed(VALUE, _join(*entries) if len(entries) > 1 else entries[0])


class GzipTFRecordWriter:
    """A gzipped TFRecord file (TFRecord framing: length, masked CRC-32C of the length, data, masked
    CRC-32C of the data; tensorflow/core/lib/io/record_writer.cc), written from Arrow binary arrays."""

    def __init__(self, path: str, level: int = zlib.Z_DEFAULT_COMPRESSION):
        import google_crc32c

        self._crc = google_crc32c.value
        self._file = open(path, "wb")
        self._zip = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip, as Beam writes .gz
        self.records = 0

    def write(self, records: pa.Array, record_list: Optional[List[bytes]] = None) -> None:
        """Appends ``records`` (``record_list``: the same as Python bytes, if the caller has them)."""
        if not len(records):
            return
        crc = self._crc
        lengths = _lengths(records).astype("<u8")
        heads = lengths.tobytes()
        length_crcs = np.array([crc(heads[i:i + 8]) for i in range(0, len(heads), 8)], np.uint64)
        data_crcs = np.array([crc(record) for record in (record_list or records.to_pylist())], np.uint64)
        masked = lambda c: ((((c >> np.uint64(15)) | (c << np.uint64(17))) + np.uint64(0xA282EAD8))
                            & np.uint64(0xFFFFFFFF)).astype("<u4")
        framing = np.empty(len(records), dtype=[("length", "<u8"), ("length_crc", "<u4")])
        framing["length"], framing["length_crc"] = lengths, masked(length_crcs)
        heads = pa.Array.from_buffers(pa.binary(), len(records), [
            None, pa.py_buffer(np.arange(0, 12 * len(records) + 1, 12, dtype=np.int32)), pa.py_buffer(framing)])
        tails = pa.Array.from_buffers(pa.binary(), len(records), [
            None, pa.py_buffer(np.arange(0, 4 * len(records) + 1, 4, dtype=np.int32)),
            pa.py_buffer(masked(data_crcs))])
        framed = _join(heads, records, tails)
        offsets = np.frombuffer(framed.buffers()[1], np.int32, len(framed) + 1, framed.offset * 4)
        self._file.write(self._zip.compress(framed.buffers()[2][offsets[0]:offsets[-1]]))
        self.records += len(records)

    def close(self) -> None:
        self._file.write(self._zip.flush())
        self._file.close()
