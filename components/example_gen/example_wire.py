"""Serialized tf.Examples and gzipped TFRecord files built column by column in numpy.

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
BYTES_LIST, FLOAT_LIST, INT64_LIST = 0x0A, 0x12, 0x1A
VALUE = 0x0A  # field 1 of BytesList/FloatList/Int64List; of Example (features); of a map entry (key)
MAP_VALUE = 0x12  # field 2 of a map entry


class Segment:
    """One piece of every row's bytes: row r's bytes are ``matrix[r, :lengths[r]]`` (a narrow uint8 matrix,
    one row per row, or one row shared by all), or, ragged, ``array[r]`` (an Arrow binary array)."""

    def __init__(self, lengths: np.ndarray, matrix: np.ndarray = None, array: pa.Array = None):
        self.lengths, self.matrix, self.array = lengths.astype(np.int64), matrix, array


Segments = List[Segment]


def constant(value: bytes, rows: int, present: np.ndarray = None) -> Segment:
    """``value`` in every row (only where ``present``, if given)."""
    lengths = np.full(rows, len(value), np.int64) if present is None else np.where(present, len(value), 0)
    return Segment(lengths, matrix=np.frombuffer(value, np.uint8)[None, :])


def varints(values: np.ndarray, present: np.ndarray = None) -> Segment:
    """Protobuf base-128 varints of ``values`` (int64 as two's complement, as protobuf writes int64)."""
    values = np.ascontiguousarray(values).astype(np.int64, copy=False).view(np.uint64)
    lengths = np.ones(len(values), np.int64)
    for index in range(1, 10):
        longer = values >= (np.uint64(1) << np.uint64(7 * index))
        if not longer.any():
            break
        lengths += longer
    width = int(lengths.max()) if len(values) else 1
    groups = np.empty((len(values), width), np.uint8)
    rest = values.copy()
    for index in range(width):
        groups[:, index] = (rest & np.uint64(0x7F)).astype(np.uint8) | np.where(index < lengths - 1, 0x80, 0)
        rest >>= np.uint64(7)
    return Segment(lengths if present is None else np.where(present, lengths, 0), matrix=groups)


def length(segments: Segments) -> np.ndarray:
    return sum(segment.lengths for segment in segments)


def _assemble_narrow(segments: Segments, rows: int) -> pa.Array:
    lengths = length(segments)
    offsets = np.zeros(rows + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    out = np.empty(int(offsets[-1]), np.uint8)
    position = offsets[:-1].copy()
    for segment in segments:  # a pass per byte column
        count, matrix = segment.lengths, segment.matrix
        if rows and count.min() == count.max():  # the same width in every row: one 2-D copy
            width = int(count[0])
            out[position[:, None] + np.arange(width)] = matrix[:, :width]
            position += count
            continue
        for column in range(matrix.shape[1]):
            has = count > column
            values = matrix[:, column] if matrix.shape[0] == has.size else matrix[0, column]
            if has.all():
                out[position + column] = values
            elif has.any():
                out[(position + column)[has]] = values[has] if np.ndim(values) else values
        position += count
    return pa.Array.from_buffers(pa.binary(), rows, [None, pa.py_buffer(offsets.astype(np.int32)),
                                                     pa.py_buffer(out)])


def assemble(segments: Segments, rows: int) -> pa.Array:
    """The rows' bytes, each the concatenation of its part of every segment, as an Arrow binary array:
    runs of narrow segments in numpy, joined with the ragged ones by Arrow (a copy per row and part)."""
    parts, run = [], []
    for segment in segments:
        if segment.matrix is not None:
            run.append(segment)
            continue
        if run:
            parts.append(_assemble_narrow(run, rows))
            run = []
        parts.append(segment.array)
    if run:
        parts.append(_assemble_narrow(run, rows))
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.binary()))


def _length_prefixed(tag: int, payload: Segments, present: np.ndarray = None) -> Segments:
    rows = len(payload[0].lengths)
    return [constant(bytes([tag]), rows, present), varints(length(payload), present)] + payload


def int64_features(values: np.ndarray, missing: np.ndarray) -> Segments:
    """``Feature(int64_list=[v])`` per row; ``Feature(int64_list=[])`` where ``missing`` (an empty cell)."""
    present = ~missing
    packed = _length_prefixed(VALUE, [varints(values, present)], present)
    return [constant(bytes([INT64_LIST]), len(values)), varints(length(packed))] + packed


def float_features(values: np.ndarray, missing: np.ndarray) -> Segments:
    """``Feature(float_list=[v])`` per row (``values`` float32), ``float_list=[]`` where ``missing``."""
    rows = len(values)
    matrix = np.empty((rows, 8), np.uint8)
    matrix[:, :4] = np.frombuffer(bytes([FLOAT_LIST, 6, VALUE, 4]), np.uint8)
    matrix[:, 4:] = np.ascontiguousarray(values, dtype="<f4").view(np.uint8).reshape(rows, 4)
    matrix[missing, 1] = 0  # float_list {} is 0x12 0x00
    return [Segment(np.where(missing, 2, 8), matrix=matrix)]


def bytes_features(values: pa.Array, missing: np.ndarray) -> Segments:
    """``Feature(bytes_list=[v])`` per row, ``bytes_list=[]`` where ``missing``."""
    values = (values if isinstance(values, pa.Array) else values.combine_chunks()).cast(pa.binary())
    present = ~missing
    strings = _length_prefixed(VALUE, [Segment(pc.binary_length(values).to_numpy(zero_copy_only=False),
                                               array=values)], present)
    return [constant(bytes([BYTES_LIST]), len(values)), varints(length(strings))] + strings


def empty_features(rows: int) -> Segments:
    """``Feature()`` (no kind): TFX's value for a column with no value in any row."""
    return [Segment(np.zeros(rows, np.int64), matrix=np.zeros((1, 1), np.uint8))]


def _map_entry(name: str, features: Segments) -> Segments:
    key = name.encode("utf-8")
    rows = len(features[0].lengths)
    head = bytes([VALUE]) + _varint(len(key)) + key + bytes([MAP_VALUE])
    return _length_prefixed(VALUE, [constant(head, rows), varints(length(features))] + features)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def examples(columns: Sequence[Tuple[str, Segments]]) -> pa.Array:
    """Serialized ``tf.train.Example`` per row with the features of ``columns`` ((name, Feature bytes)),
    in the order given: sorted by name, they are the deterministic serialization."""
    entries = [segment for name, features in columns for segment in _map_entry(name, features)]
    return assemble(_length_prefixed(VALUE, entries), len(entries[0].lengths))


def _masked(crcs: np.ndarray) -> np.ndarray:
    """TFRecord's masked CRC: rotated right by 15 bits, plus a constant (tensorflow/core/lib/hash/crc32c.h)."""
    return ((((crcs >> np.uint64(15)) | (crcs << np.uint64(17))) + np.uint64(0xA282EAD8))
            & np.uint64(0xFFFFFFFF)).astype("<u4")


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
        rows = len(records)
        if not rows:
            return
        offsets = np.frombuffer(records.buffers()[1], np.int32, rows + 1, records.offset).astype(np.int64)
        lengths = np.diff(offsets)
        framing = np.empty(rows, dtype=[("length", "<u8"), ("length_crc", "<u4")])
        framing["length"] = lengths
        heads = framing["length"].tobytes()
        crc = self._crc
        framing["length_crc"] = _masked(np.array([crc(heads[i:i + 8]) for i in range(0, len(heads), 8)], np.uint64))
        data_crcs = _masked(np.array([crc(record) for record in (record_list or records.to_pylist())], np.uint64))
        framed = assemble([Segment(np.full(rows, 12), matrix=framing.view(np.uint8).reshape(rows, 12)),
                           Segment(lengths, array=records),
                           Segment(np.full(rows, 4), matrix=data_crcs.view(np.uint8).reshape(rows, 4))], rows)
        framed_offsets = np.frombuffer(framed.buffers()[1], np.int32, rows + 1, framed.offset)
        self._file.write(self._zip.compress(framed.buffers()[2][framed_offsets[0]:framed_offsets[-1]]))
        self.records += rows

    def close(self) -> None:
        self._file.write(self._zip.flush())
        self._file.close()
