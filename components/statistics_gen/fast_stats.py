"""StatisticsGen without Beam on one machine: TFDV's in-memory statistics of each split.

TFX's StatisticsGen runs ``tfdv.GenerateStatistics`` on Beam: every batch of examples passes
through Beam's runner and every statistics generator builds and merges an accumulator per batch.
TFDV's ``generate_statistics_in_memory`` runs the same generators over one Arrow record batch
(``stats_impl.get_generators(options, in_memory=True)``). Here each split's records are read with
TensorFlow's TFRecord reader (CRC-checked, as TFX's source reads them), decoded by tfx-bsl's
``ExamplesToRecordBatchDecoder`` (the decoder TFX's ``TFExampleRecord`` source uses, without a
schema as StatisticsGen gives it none), and the statistics written where TFX writes them
(``Split-<name>/FeatureStats.pb``, a binary ``DatasetFeatureStatisticsList``).

The statistics equal TFX's executor's up to the order of floating-point sums (means, standard
deviations: relative differences near 1e-15): ``tests/executors/test_statistics_gen_fast.py``.
Features are listed in the decoder's order; TFX lists them in the order they first appear in its
Beam batches, which is the same order when every example has every feature (as ExampleGen writes
them). Two inputs go to TFX's executor because TFDV's in-memory generators treat them differently:
byte values that are not UTF-8, and a feature whose kind differs between examples.

Used when the rule of ``runtime/beam_defaults.py`` decides (no Beam args), the examples are
tf.Examples in local gzipped TFRecords, and they are at most ``MAX_EXAMPLES_BYTES``: the whole
split is held in memory as Arrow (about 20 times its compressed size).
"""

import glob
import os
from typing import Dict, List

# Compressed examples (all splits) up to which a split is held in memory: 1.5M taxi rows are 55 MB.
MAX_EXAMPLES_BYTES = 128 << 20
DECODE_BATCH = 65536


class Unsupported(Exception):
    """This input goes to TFX's executor on Beam instead (the reason is the message)."""


def split_files(examples_dir: str, split: str) -> List[str]:
    return sorted(glob.glob(os.path.join(examples_dir, f"Split-{split}", "*")))


def check_supported(examples_dir: str, splits: List[str], payload_format: str) -> None:
    """Raises ``Unsupported`` unless the splits are local tf.Example TFRecords (gzipped) of bounded size."""
    if payload_format not in ("", "FORMAT_TF_EXAMPLE"):
        raise Unsupported(f"the examples' payload format is {payload_format}, not tf.Example")
    files = [path for split in splits for path in split_files(examples_dir, split)]
    if not files or not all(path.endswith(".gz") and os.path.isfile(path) for path in files):
        raise Unsupported(f"{examples_dir} does not hold local gzipped TFRecord files for splits {splits}")
    size = sum(os.path.getsize(path) for path in files)
    if size > MAX_EXAMPLES_BYTES:
        raise Unsupported(f"the examples are {size:,} bytes, more than the {MAX_EXAMPLES_BYTES:,} held in memory")


def _record_batch(files: List[str]):
    import pyarrow as pa
    import tensorflow as tf
    from tfx_bsl.coders import example_coder

    decoder = example_coder.ExamplesToRecordBatchDecoder()
    tables = []
    for batch in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(DECODE_BATCH):
        tables.append(pa.Table.from_batches([decoder.DecodeBatch(batch.numpy().tolist())]))
    if not tables:
        raise Unsupported(f"no examples in {os.path.dirname(files[0])}")
    # Batches where a feature is absent, or only empty, decode it as another type or not at all:
    # promotion gives the columns TFX's per-batch accumulators end up with. Kinds that conflict
    # between batches (int64 in one, float in another) are left to TFX's executor.
    try:
        # pyarrow 14 renamed ``promote=True`` (the 1.16 stack has pyarrow 10) to ``promote_options="default"``.
        promotion = {"promote_options": "default"} if int(pa.__version__.split(".")[0]) >= 14 else {"promote": True}
        table = pa.concat_tables(tables, **promotion).combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise Unsupported(f"a feature's kind differs between examples: {e}") from None
    _require_utf8(table)
    return table.to_batches()[0] if table.num_rows else None


def _require_utf8(table) -> None:
    """Byte values that are not UTF-8 are counted per value on Beam and as one placeholder in memory
    (TFDV's top-k generators differ there): such input goes to TFX's executor."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for name, values in zip(table.column_names, table.columns):
        while pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
            values = pc.list_flatten(values)
        if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
            try:
                values.cast(pa.large_string() if pa.types.is_large_binary(values.type) else pa.string())
            except pa.ArrowInvalid:
                raise Unsupported(f"feature {name!r} holds byte values that are not UTF-8") from None


def split_statistics(examples_dir: str, splits: List[str]) -> Dict[str, bytes]:
    """{split: serialized DatasetFeatureStatisticsList}, TFDV's default options, every split read first."""
    from tensorflow_data_validation.statistics import stats_impl, stats_options

    found = {}
    for split in splits:
        record_batch = _record_batch(split_files(examples_dir, split))
        if record_batch is None:
            raise Unsupported(f"split {split} has no examples")
        statistics = stats_impl.generate_statistics_in_memory(record_batch, stats_options.StatsOptions())
        found[split] = statistics.SerializeToString()
    return found
