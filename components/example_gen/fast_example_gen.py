"""ExampleGen's CSV splits written without Beam: ``fast_csv``'s pieces typed, encoded, split and written,
on one forked worker process per core where the input is large enough to pay for it.

Each worker reads its pieces and sends their column types; the parent merges them (the types are over
all files, as TFX infers them) and sends them back; each worker then encodes its rows
(``example_wire``), assigns their splits and writes its own file per split. Anything ``fast_csv``
cannot reproduce exactly raises ``Unsupported`` before a file is written.
"""

import hashlib
import multiprocessing
import os
from typing import Dict, List, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tfx_kfp.components.example_gen import example_wire, fast_csv
from tfx_kfp.components.example_gen.fast_csv import INT, TEXT, UNKNOWN, Piece, Unsupported

BATCH_ROWS = 1 << 16
SHARD_NAME = "data_tfrecord-{index:05d}-of-{count:05d}.gz"  # WriteToTFRecord's default shard names


def _features(column, kind: str) -> example_wire.Segments:
    missing = pc.equal(column, "").to_numpy(zero_copy_only=False)
    if kind == UNKNOWN:
        return example_wire.empty_features(len(column))
    if kind == TEXT:
        return example_wire.bytes_features(column, missing)
    numbers = fast_csv.without_plus(pc.if_else(pa.array(missing), "0", column))
    if kind == INT:
        return example_wire.int64_features(pc.cast(numbers, pa.int64()).to_numpy(zero_copy_only=False), missing)
    doubles = pc.cast(numbers, pa.float64())
    return example_wire.float_features(pc.cast(doubles, pa.float32(), safe=False).to_numpy(zero_copy_only=False),
                                       missing)


def _split_indexes(keys: List[bytes], cumulative_buckets: np.ndarray) -> np.ndarray:
    """``_PartitionFn``: bisect(buckets, int(sha256(key).hexdigest(), 16) % buckets[-1]) per key."""
    digests = np.frombuffer(b"".join([hashlib.sha256(key).digest() for key in keys]), np.uint8).reshape(-1, 32)
    total = np.uint64(cumulative_buckets[-1])
    remainder = np.zeros(len(keys), np.uint64)
    for byte in range(32):  # the big-endian 256-bit number modulo total, a byte at a time
        remainder = (remainder * np.uint64(256) + digests[:, byte]) % total
    return np.searchsorted(cumulative_buckets, remainder, side="right")


def write_pieces(pieces: Sequence[Piece], tables: Sequence[pa.Table], names: List[str], kinds: List[str],
                 cumulative_buckets: Sequence[int], partition_feature: Optional[str],
                 split_files: List[str]) -> List[int]:
    """Encodes the pieces' rows, assigns their splits and writes one file per split; the rows per split."""
    buckets = np.asarray(cumulative_buckets, np.int64)
    writers = [example_wire.GzipTFRecordWriter(path) for path in split_files]
    order = sorted(range(len(names)), key=lambda index: names[index])  # deterministic: keys sorted
    for table in tables:
        for batch in table.to_batches(BATCH_ROWS):
            features = [_features(batch.column(index), kinds[index]) for index in range(len(names))]
            records = example_wire.examples([(names[index], features[index]) for index in order])
            record_list = records.to_pylist()
            keys = record_list if partition_feature is None else \
                example_wire.assemble(features[names.index(partition_feature)], batch.num_rows).to_pylist()
            splits = _split_indexes(keys, buckets)
            for split, writer in enumerate(writers):
                rows = np.flatnonzero(splits == split)
                writer.write(records.take(pa.array(rows)), [record_list[row] for row in rows])
    for writer in writers:
        writer.close()
    return [writer.records for writer in writers]


def _check_partition_feature(names: List[str], kinds: List[str], partition_feature: Optional[str]) -> None:
    if partition_feature is None:
        return
    if partition_feature not in names or kinds[names.index(partition_feature)] not in (INT, TEXT):
        raise Unsupported(f"partition feature {partition_feature!r} is not an int64 or bytes column: "
                          f"TFX's executor says what it makes of that")


def _worker(connection, pieces, contents, names) -> None:
    """A forked worker: reads its pieces, sends their column types, receives the merged ones, writes."""
    try:
        tables = [fast_csv.read_piece(piece, contents[piece.path], names) for piece in pieces]
        connection.send([[fast_csv.column_kind(column) for column in table.columns] for table in tables])
        kinds, buckets, partition_feature, split_files = connection.recv()
        if kinds is None:
            return
        connection.send(write_pieces(pieces, tables, names, kinds, buckets, partition_feature, split_files))
    except Unsupported as e:
        connection.send(e)
    except Exception as e:  # sent whole, so the parent's error names it
        connection.send(RuntimeError(f"example_gen worker: {type(e).__name__}: {e}"))
    finally:
        connection.close()


def _raise_errors(answers, kind) -> None:
    for answer in answers:
        if isinstance(answer, kind):
            raise answer


def write_examples(files: Sequence[str], cumulative_buckets: Sequence[int], partition_feature: Optional[str],
                   split_dirs: Sequence[str], workers: int,
                   min_piece_bytes: int = fast_csv.MIN_PIECE_BYTES) -> Dict[str, int]:
    """Writes TFX's CsvExampleGen splits of ``files`` into ``split_dirs`` (in the order of the buckets).

    ``partition_feature``: the split config's ``partition_feature_name`` if it is set (even to ""), else None.
    Returns {split folder: rows}. Raises Unsupported (before writing anything) where TFX's output may differ.
    """
    names, pieces, contents = fast_csv.plan(files, workers, min_piece_bytes)
    groups = [pieces[index::workers] for index in range(workers) if pieces[index::workers]]

    def shard_files(group: int) -> List[str]:
        return [os.path.join(folder, SHARD_NAME.format(index=group, count=len(groups))) for folder in split_dirs]

    if len(groups) == 1:
        tables = [fast_csv.read_piece(piece, contents[piece.path], names) for piece in pieces]
        kinds = fast_csv.merge_kinds(names, [[fast_csv.column_kind(c) for c in table.columns] for table in tables])
        _check_partition_feature(names, kinds, partition_feature)
        for folder in split_dirs:
            os.makedirs(folder, exist_ok=True)
        counts = [write_pieces(pieces, tables, names, kinds, cumulative_buckets, partition_feature, shard_files(0))]
    else:
        context = multiprocessing.get_context("fork")
        connections, processes = [], []
        for group in groups:
            parent, child = context.Pipe()
            process = context.Process(target=_worker, args=(child, group, contents, names), daemon=True)
            process.start()
            child.close()
            connections.append(parent)
            processes.append(process)
        try:
            answers = [connection.recv() for connection in connections]
            kinds, failed = None, next((a for a in answers if isinstance(a, Exception)), None)
            if failed is None:
                try:
                    kinds = fast_csv.merge_kinds(names, [kinds for answer in answers for kinds in answer])
                    _check_partition_feature(names, kinds, partition_feature)
                except Unsupported as e:
                    failed = e
            if failed is None:
                for folder in split_dirs:
                    os.makedirs(folder, exist_ok=True)
            for index, (connection, answer) in enumerate(zip(connections, answers)):
                if not isinstance(answer, Exception):  # a worker that failed has stopped
                    connection.send((kinds, list(cumulative_buckets), partition_feature, shard_files(index)))
            if failed is not None:
                raise failed
            counts = [connection.recv() for connection in connections]
        finally:
            for connection in connections:  # a worker still waiting for the types stops at its end
                connection.close()
            for process in processes:
                process.join()
        _raise_errors(counts, Exception)
    return {folder: sum(c[index] for c in counts) for index, folder in enumerate(split_dirs)}
