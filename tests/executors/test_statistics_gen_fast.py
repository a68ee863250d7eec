"""StatisticsGen without Beam (components/statistics_gen/fast_stats.py) writes TFX's statistics.

Each test runs our StatisticsGen twice on the same examples: with explicit Beam args (TFX's own
executor on Beam, in memory) and with none (TFDV in memory, no Beam), and compares split by split
the DatasetFeatureStatisticsList protos: the same fields, strings and counts, numbers equal up to the
order of floating-point sums (relative 1e-9), and the same artifact properties.
"""

import importlib.util
import os
import re

import pytest

from tests._support import chain
from tfx_kfp.components.statistics_gen import fast_stats

TAXI_DATA = os.path.join(os.path.dirname(importlib.util.find_spec("tfx").origin), "examples", "chicago_taxi_pipeline",
                         "data", "simple")
NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?|nan|inf", re.IGNORECASE)


def _lines(statistics) -> list:
    """The text of the statistics, features in name order: TFX lists them in the order they first appear
    in its Beam batches (in every batch, for the examples ExampleGen writes: every column in every row)."""
    from google.protobuf import text_format

    statistics = type(statistics).FromString(statistics.SerializeToString())
    for dataset in statistics.datasets:
        features = sorted(dataset.features, key=lambda f: list(f.path.step))
        copies = [type(f).FromString(f.SerializeToString()) for f in features]
        del dataset.features[:]
        dataset.features.extend(copies)
    return text_format.MessageToString(statistics).splitlines()


def _assert_equal_up_to_float_sums(ours, tfx, where: str) -> None:
    mine, theirs = _lines(ours), _lines(tfx)
    assert len(mine) == len(theirs), f"{where}: {len(mine)} lines vs TFX's {len(theirs)}"
    for number, (a, b) in enumerate(zip(mine, theirs)):
        if a == b:
            continue
        assert NUMBER.sub("#", a) == NUMBER.sub("#", b), f"{where} line {number}: {a!r} vs TFX's {b!r}"
        for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
            assert float(x) == pytest.approx(float(y), rel=1e-9, abs=1e-12), f"{where} line {number}: {a!r} vs {b!r}"


def _both(source: str, tmp_path):
    from tfx_kfp.runtime import beam_defaults, reports

    found = {}
    for name, args in (("ours", []), ("tfx", list(beam_defaults.IN_MEMORY_ARGS))):
        out = str(tmp_path / name)
        statistics = chain.run_statistics_gen(source, out, beam_pipeline_args=args)
        found[name] = (reports.read_statistics(statistics.path), dict(statistics.metadata))
    return found["ours"], found["tfx"]


def _compare(source: str, tmp_path, capfd) -> dict:
    (ours, our_metadata), (tfx, tfx_metadata) = _both(source, tmp_path)
    assert "TFDV's in-memory statistics" in capfd.readouterr().out  # the path without Beam ran
    assert our_metadata == tfx_metadata
    assert sorted(ours) == sorted(tfx)
    for split in tfx:
        _assert_equal_up_to_float_sums(ours[split], tfx[split], split)
    return ours


def test_penguin_examples(tmp_path, capfd):
    ours = _compare(chain.FIXTURES, tmp_path, capfd)
    assert ours["train"].datasets[0].num_examples > 100


def test_tfx_taxi_examples(tmp_path, capfd):
    source = str(tmp_path / "taxi")
    chain.run_example_gen(source, data_root=TAXI_DATA, label_key="tips", beam_pipeline_args=[])
    _compare(source, tmp_path, capfd)


def _write_examples(folder: str, split: str, examples) -> None:
    import tensorflow as tf

    os.makedirs(os.path.join(folder, f"Split-{split}"), exist_ok=True)
    path = os.path.join(folder, f"Split-{split}", "data_tfrecord-00000-of-00001.gz")
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for example in examples:
            writer.write(example.SerializeToString())


def _adversarial(count: int):
    """Features int, float and bytes; multi-valent, empty, absent in some rows; one present only in the
    later rows; unicode bytes; int64 extremes; NaN and infinities."""
    import tensorflow as tf

    feature = tf.train.Feature
    for i in range(count):
        features = {
            "ints": feature(int64_list=tf.train.Int64List(value=[i, -(2 ** 63), 2 ** 63 - 1][: 1 + i % 3])),
            "floats": feature(float_list=tf.train.FloatList(value=[float("nan"), float("inf"), -0.0, i / 7][i % 4:])),
            "text": feature(bytes_list=tf.train.BytesList(value=[["é", "日本", "a,b", ""][i % 4].encode()])),
            "id": feature(bytes_list=tf.train.BytesList(value=[f"row {i}".encode()])),
            "empty": feature(int64_list=tf.train.Int64List()),
        }
        if i % 5:
            features["sometimes"] = feature(float_list=tf.train.FloatList(value=[i * 0.5]))
        if i >= count // 2:
            features["late"] = feature(bytes_list=tf.train.BytesList(value=[b"x" * (i % 3)]))
        yield tf.train.Example(features=tf.train.Features(feature=features))


def test_adversarial_examples_across_decode_batches(tmp_path, capfd, monkeypatch):
    monkeypatch.setattr(fast_stats, "DECODE_BATCH", 64)  # "late" is absent from the first batches
    source = str(tmp_path / "adversarial")
    examples = os.path.join(source, "examples")
    _write_examples(examples, "train", _adversarial(300))
    _write_examples(examples, "eval", _adversarial(97))
    with open(os.path.join(source, "examples.metadata.json"), "w") as f:
        f.write('{"split_names": "[\\"train\\", \\"eval\\"]"}')
    _compare(source, tmp_path, capfd)


def test_what_it_leaves_to_tfx(tmp_path):
    import tensorflow as tf

    folder = str(tmp_path / "examples")
    with pytest.raises(fast_stats.Unsupported, match="payload format"):
        fast_stats.check_supported(folder, ["train"], "FORMAT_PARQUET")
    with pytest.raises(fast_stats.Unsupported, match="gzipped TFRecord"):
        fast_stats.check_supported(folder, ["train"], "FORMAT_TF_EXAMPLE")
    _write_examples(folder, "empty", [])
    with pytest.raises(fast_stats.Unsupported, match="no examples"):
        fast_stats.split_statistics(folder, ["empty"])
    conflicting = [tf.train.Example(features=tf.train.Features(feature={"x": tf.train.Feature(
        int64_list=tf.train.Int64List(value=[1]))}))] * 3 + [tf.train.Example(features=tf.train.Features(
            feature={"x": tf.train.Feature(float_list=tf.train.FloatList(value=[1.5]))}))] * 3
    _write_examples(folder, "not_utf8", [tf.train.Example(features=tf.train.Features(feature={"raw": tf.train.Feature(
        bytes_list=tf.train.BytesList(value=[b"ok", bytes([255, 0])]))}))])
    with pytest.raises(fast_stats.Unsupported, match="not UTF-8"):  # TFDV's top values differ there
        fast_stats.split_statistics(folder, ["not_utf8"])
    _write_examples(folder, "conflict", conflicting)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast_stats, "DECODE_BATCH", 3)
        with pytest.raises(fast_stats.Unsupported, match="kind differs"):
            fast_stats.split_statistics(folder, ["conflict"])
