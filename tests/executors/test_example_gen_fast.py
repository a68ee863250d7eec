"""ExampleGen's CSV path without Beam (components/example_gen/fast_csv.py) writes TFX's examples.

Each test runs TFX's own ``CsvExampleGen`` executor (Beam, in memory) and ours on the same files and
compares, split by split, the multisets of serialized tf.Examples: ours byte for byte against TFX's
records in their deterministic serialization (TFX writes the feature map in protobuf's hash order;
the split it assigns is a hash of the deterministic form, which is what we write).
"""

import collections
import importlib.util
import glob
import json
import os

import pytest

from tests._support import chain
from tfx_kfp.components.example_gen import fast_csv, fast_example_gen

TAXI_DATA = os.path.join(os.path.dirname(importlib.util.find_spec("tfx").origin), "examples", "chicago_taxi_pipeline", "data",
                         "simple")
BUCKETS = [2, 3]  # train 2, eval 1: the component's defaults
SPLITS = ["train", "eval"]


def _records(split_dir: str):
    import tensorflow as tf

    files = sorted(glob.glob(os.path.join(split_dir, "*")))
    return [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")] if files else []


def tfx_splits(data_dir: str, out: str, partition_feature: str = None) -> dict:
    """{split: Counter of deterministic serializations} written by TFX's CsvExampleGen executor."""
    from tfx.components.example_gen.csv_example_gen import executor as csv_executor
    from tfx.proto import example_gen_pb2
    from tfx.types import standard_artifacts, standard_component_specs as specs

    from tfx_kfp.runtime import beam_defaults, tfx_bridge

    examples = standard_artifacts.Examples()
    examples.uri = out
    split_config = example_gen_pb2.SplitConfig(
        splits=[example_gen_pb2.SplitConfig.Split(name=n, hash_buckets=b) for n, b in zip(SPLITS, (2, 1))])
    if partition_feature is not None:  # a oneof: set, even to "", it is used
        split_config.partition_feature_name = partition_feature
    csv_executor.Executor(tfx_bridge.beam_context(beam_defaults.IN_MEMORY_ARGS)).Do({}, {"examples": [examples]}, {
        specs.INPUT_BASE_KEY: data_dir,
        specs.INPUT_CONFIG_KEY: tfx_bridge.proto_json(example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name="single_split", pattern="*.csv")])),
        specs.OUTPUT_CONFIG_KEY: tfx_bridge.proto_json(example_gen_pb2.Output(split_config=split_config)),
        specs.OUTPUT_DATA_FORMAT_KEY: example_gen_pb2.FORMAT_TF_EXAMPLE,
        specs.OUTPUT_FILE_FORMAT_KEY: example_gen_pb2.FORMAT_TFRECORDS_GZIP,
    })
    return _canonical_splits(out)


def _canonical_splits(out: str) -> dict:
    import tensorflow as tf

    return {split: collections.Counter(tf.train.Example.FromString(r).SerializeToString(deterministic=True)
                                       for r in _records(os.path.join(out, f"Split-{split}")))
            for split in SPLITS}


def fast_splits(data_dir: str, out: str, workers: int = 1, partition_feature: str = None, **options) -> dict:
    """{split: Counter of records} written by fast_csv, as they are on disk."""
    dirs = [os.path.join(out, f"Split-{split}") for split in SPLITS]
    fast_example_gen.write_examples(sorted(glob.glob(os.path.join(data_dir, "*.csv"))), BUCKETS, partition_feature, dirs,
                            workers, **options)
    return {split: collections.Counter(_records(folder)) for split, folder in zip(SPLITS, dirs)}


def assert_same(ours: dict, theirs: dict) -> None:
    for split in SPLITS:
        assert sum(ours[split].values()) == sum(theirs[split].values()), split
        assert ours[split] == theirs[split], f"Split-{split}: the examples differ"
    assert all(theirs.values()), "a split is empty: the comparison would prove little"


ADVERSARIAL = {  # every row has 8 cells; the cases are in the column names
    "a.csv": (
        "id,text,mixed_int_float,int64_extremes,scientific,all_empty,ints_odd_forms,beyond_int64\n"
        '1,"hello, world",1,9223372036854775807,1e5,,007,1\n'
        '2,"multi\nline, with comma",2,-9223372036854775808,1.5E-3,,+5,2\n'
        '3,"say ""hi""",3.5,0,-2.5e+10,,-0,3\n'
        "4,é中文😀 ünï,,1,2e39,,10,99999999999999999999\n"
        "\n"
        '5,,4,-1,,,+0,4\n'
        '6,"",5,2,1e-50,,0012,5\n'
        "7,plain,6,3,.5,,1,6"),  # no newline at the end
    "b.csv": (
        "id,text,mixed_int_float,int64_extremes,scientific,all_empty,ints_odd_forms,beyond_int64\r\n"
        '8,"crlf\r\ninside",7,4,5.,,2,7\r\n'
        "\r\n"
        "9, leading space,8,5,-0.0,,3,8\r\n"
        '10,"",9,6,3.4028235e38,,4,9\r\n'),
}


def _write(folder, files: dict) -> str:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return str(folder)


def test_penguin_as_tfx_writes_it_and_by_the_partition_feature(tmp_path):
    assert_same(fast_splits(chain.PENGUIN_DATA, str(tmp_path / "ours")),
                tfx_splits(chain.PENGUIN_DATA, str(tmp_path / "tfx")))
    assert_same(fast_splits(chain.PENGUIN_DATA, str(tmp_path / "ours_p"), partition_feature="species"),
                tfx_splits(chain.PENGUIN_DATA, str(tmp_path / "tfx_p"), partition_feature="species"))


def test_taxi_as_tfx_writes_it_on_one_and_two_workers(tmp_path):
    theirs = tfx_splits(TAXI_DATA, str(tmp_path / "tfx"))
    assert_same(fast_splits(TAXI_DATA, str(tmp_path / "one")), theirs)
    two = str(tmp_path / "two")
    assert_same(fast_splits(TAXI_DATA, two, workers=2, min_piece_bytes=1 << 18), theirs)
    assert sorted(os.listdir(os.path.join(two, "Split-train"))) == [
        "data_tfrecord-00000-of-00002.gz", "data_tfrecord-00001-of-00002.gz"]


def test_adversarial_csv_as_tfx_writes_it(tmp_path):
    data = _write(tmp_path / "data", ADVERSARIAL)
    theirs = tfx_splits(data, str(tmp_path / "tfx"))
    assert_same(fast_splits(data, str(tmp_path / "ours")), theirs)
    assert_same(fast_splits(data, str(tmp_path / "two"), workers=2, min_piece_bytes=1), theirs)
    assert fast_csv.merge_kinds(*_kinds(data)) == ["int", "text", "float", "int", "float", "unknown", "int", "text"]


def _kinds(data: str):
    names, pieces, contents = fast_csv.plan(sorted(glob.glob(os.path.join(data, "*.csv"))), 1)
    tables = [fast_csv.read_piece(piece, contents[piece.path], names) for piece in pieces]
    return names, [[fast_csv.column_kind(c) for c in table.columns] for table in tables]


def test_a_byte_order_mark_stays_in_the_first_column_name_as_in_tfx(tmp_path):
    data = _write(tmp_path / "data", {"bom.csv": b"\xef\xbb\xbfx,y\n1,a\n2,b\n3,c\n4,d\n5,e\n6,f\n"})
    assert_same(fast_splits(data, str(tmp_path / "ours")), tfx_splits(data, str(tmp_path / "tfx")))


def test_the_executor_falls_back_to_tfx_where_only_python_reads_a_number(tmp_path, capsys):
    data = _write(tmp_path / "data", {"nan.csv": "label,x\n" + "".join(f"{i % 2},{i}.5\n" for i in range(30))
                                      + "1,nan\n"})
    with pytest.raises(fast_csv.Unsupported, match="'x'.*only Python"):
        fast_splits(data, str(tmp_path / "direct"))
    examples = chain.run_example_gen(str(tmp_path), data_root=data, label_key="label", beam_pipeline_args=[])
    assert "TFX's CsvExampleGen executor (Beam) reads this input" in capsys.readouterr().out
    assert json.loads(examples.metadata["split_names"]) == SPLITS
    assert_same(_canonical_splits(examples.path), tfx_splits(data, str(tmp_path / "tfx")))


def test_the_executor_writes_without_beam_when_no_beam_args_are_given(tmp_path, capsys):
    examples = chain.run_example_gen(str(tmp_path), beam_pipeline_args=[])
    assert "no Beam (components/example_gen/fast_csv.py)" in capsys.readouterr().out
    assert json.loads(examples.metadata["split_names"]) == SPLITS
    assert examples.metadata["payload_format"] == "FORMAT_TF_EXAMPLE"
    assert examples.metadata["file_format"] == "tfrecords_gzip"
    ours = {s: collections.Counter(_records(os.path.join(examples.path, f"Split-{s}"))) for s in SPLITS}
    assert sum(map(lambda c: sum(c.values()), ours.values())) == 342
