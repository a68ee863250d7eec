"""Each executor, for real, on the checked-in fixture chain: a stage's input is the previous stage's output.

Fixtures: tests/fixtures/penguin_chain (regenerate: uv run python tests/fixtures/make_penguin_chain.py).
"""

import json
import os
import shutil

import pytest

from tests._support import chain
from tfx_kfp.runtime.errors import AnomaliesFoundError, InputError, UserModuleError

FIX = chain.FIXTURES


def _records(folder: str) -> int:
    import tensorflow as tf

    files = [os.path.join(folder, f) for f in sorted(os.listdir(folder))]
    return sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP" if files[0].endswith(".gz") else ""))


def _split_counts(examples_dir: str) -> dict:
    return {d: _records(os.path.join(examples_dir, d)) for d in sorted(os.listdir(examples_dir)) if d.startswith("Split-")}


def _stage_inputs(tmp_path, *names):
    """Copies fixture artifacts (and their metadata) into tmp_path so outputs never touch the fixtures."""
    for name in names:
        shutil.copytree(os.path.join(FIX, name), tmp_path / name)
        meta = os.path.join(FIX, f"{name}.metadata.json")
        if os.path.exists(meta):
            shutil.copy(meta, tmp_path / f"{name}.metadata.json")
    return str(tmp_path)


def test_example_gen_splits_csv_like_the_fixture(tmp_path):
    examples = chain.run_example_gen(str(tmp_path))
    assert json.loads(examples.metadata["split_names"]) == ["train", "eval"]
    counts = _split_counts(examples.path)
    assert counts == _split_counts(os.path.join(FIX, "examples"))
    assert sum(counts.values()) == 342


def test_example_gen_reads_existing_tfrecords(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for split in ("train", "eval"):
        (source,) = os.listdir(os.path.join(FIX, "examples", f"Split-{split}"))
        shutil.copy(os.path.join(FIX, "examples", f"Split-{split}", source), data / f"{split}.tfrecord.gz")
    examples = chain.run_example_gen(str(tmp_path / "out"), data_root=str(data), input_format="tfrecord") \
        if os.makedirs(tmp_path / "out") is None else None
    assert sum(_split_counts(examples.path).values()) == 342


def test_example_gen_rejects_a_missing_label_before_running_beam(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("culmen_length_mm,body_mass_g\n0.1,0.2\n")
    with pytest.raises(InputError, match="field 'species': label column is missing"):
        chain.run_example_gen(str(tmp_path), data_root=str(data))
    assert not (tmp_path / "examples").exists()


def test_statistics_gen_on_fixture_examples(tmp_path):
    from tfx_kfp.runtime.reports import read_statistics

    source = _stage_inputs(tmp_path, "examples")
    out = tmp_path / "out"
    out.mkdir()
    statistics = chain.run_statistics_gen(source, str(out))
    ours, fixture = read_statistics(statistics.path), read_statistics(os.path.join(FIX, "statistics"))
    assert sorted(ours) == ["eval", "train"]
    for split in ours:
        assert ours[split].datasets[0].num_examples == fixture[split].datasets[0].num_examples
    html = (out / "reports" / "statistics.html").read_text()
    assert "culmen_length_mm" in html and "<script" not in html


def test_schema_gen_infers_the_fixture_schema(tmp_path):
    from tfx_kfp.runtime.reports import read_schema

    source = _stage_inputs(tmp_path, "statistics")
    schema = chain.run_schema_gen(source, source)
    assert read_schema(schema.path) == read_schema(os.path.join(FIX, "schema"))
    assert "| species |" in (tmp_path / "reports" / "schema.md").read_text()


def test_import_schema_round_trips_the_fixture_schema(tmp_path):
    from kfp.dsl import Markdown

    from tfx_kfp.runtime.reports import read_schema
    from tfx_kfp.components.schema_gen import executor
    from tfx_kfp.components.types import Schema

    text = open(os.path.join(FIX, "schema", "schema.pbtxt")).read()
    schema = Schema(uri=str(tmp_path / "schema"))
    executor.import_text(schema_pbtxt=text, schema=schema, report=Markdown(uri=str(tmp_path / "schema.md")))
    assert read_schema(schema.path) == read_schema(os.path.join(FIX, "schema"))
    with pytest.raises(InputError, match="not a valid TFMD Schema"):
        executor.import_text(schema_pbtxt="feature { nme: 'x' }", schema=Schema(uri=str(tmp_path / "bad")),
                             report=Markdown(uri=str(tmp_path / "bad.md")))
    assert not (tmp_path / "bad").exists()


def test_example_validator_finds_no_anomalies_in_the_fixture(tmp_path):
    source = _stage_inputs(tmp_path, "statistics", "schema")
    anomalies = chain.run_example_validator(source, source)
    assert anomalies.metadata["anomaly_count"] == 0
    assert "No anomalies" in (tmp_path / "reports" / "anomalies.html").read_text()


def test_example_validator_fails_listing_each_anomaly(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with open(os.path.join(chain.PENGUIN_DATA, "penguins_processed.csv")) as f:
        rows = [line.rstrip("\n").split(",") for line in f]
    (data / "dropped_column.csv").write_text("\n".join(",".join(r[:-1]) for r in rows) + "\n")
    chain.run_example_gen(str(tmp_path), data_root=str(data))
    chain.run_statistics_gen(str(tmp_path), str(tmp_path))
    shutil.copytree(os.path.join(FIX, "schema"), tmp_path / "schema")
    with pytest.raises(AnomaliesFoundError) as error:
        chain.run_example_validator(str(tmp_path), str(tmp_path))
    message = str(error.value)
    assert "feature 'body_mass_g'" in message and "SCHEMA_MISSING_COLUMN" in message
    assert "split 'train'" in message and "split 'eval'" in message
    html = (tmp_path / "reports" / "anomalies.html").read_text()
    assert "body_mass_g" in html and "No anomalies" not in html


def test_transform_on_fixture_examples_and_schema(tmp_path):
    from tfx_kfp.runtime.reports import read_schema

    source = _stage_inputs(tmp_path, "examples", "schema")
    graph, transformed = chain.run_transform(source, source)
    output_schema = read_schema(os.path.join(graph.path, "transformed_metadata", "schema.pbtxt"))
    assert sorted(f.name for f in output_schema.feature) == sorted(
        ["species", "culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"])
    assert _split_counts(transformed.path) == _split_counts(os.path.join(FIX, "examples"))
    assert "5 output features from 5 input features" in (tmp_path / "reports" / "transform.md").read_text()


def test_transform_with_beam_workers_in_other_processes(tmp_path):
    """DirectRunner multi-processing (the default rule's choice above the measured sizes): workers in other
    processes must import the user module."""
    source = _stage_inputs(tmp_path, "examples", "schema")
    graph, transformed = chain.run_transform(
        source, source, beam_args=["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    assert _split_counts(transformed.path) == _split_counts(os.path.join(FIX, "examples"))
    assert os.path.exists(os.path.join(graph.path, "transform_fn", "saved_model.pb"))


def test_without_beam_args_the_stage_picks_its_mode_by_input_size(tmp_path, capsys):
    """The generic pipeline's default (empty beam_pipeline_args): runtime/beam_defaults.py decides, in the stage."""
    source = _stage_inputs(tmp_path, "examples", "schema")
    graph, transformed = chain.run_transform(source, source, beam_args=[])
    assert "(examples) on" in capsys.readouterr().out  # the choice is printed, with the rule's file
    assert _split_counts(transformed.path) == _split_counts(os.path.join(FIX, "examples"))


def test_transform_rejects_a_module_without_preprocessing_fn(tmp_path):
    source = _stage_inputs(tmp_path, "examples", "schema")
    with pytest.raises(UserModuleError, match="must define a top-level function 'preprocessing_fn'; functions found: run_fn"):
        chain.run_transform(source, source, source_text="def run_fn(fn_args):\n    pass\n")
    assert not (tmp_path / "transform_graph").exists()


def test_trainer_on_fixture_transform_outputs(tmp_path):
    source = _stage_inputs(tmp_path, "transformed_examples", "transform_graph", "schema")
    model, logged = chain.run_trainer(source, source, train_steps=50)
    assert os.path.exists(os.path.join(model.path, "Format-Serving", "saved_model.pb"))
    signatures = model.metadata["signatures"]
    assert signatures["serving_default"]["outputs"]["scores"] == {"dtype": "float32", "shape": [-1, 3]}
    assert signatures["serving_examples"]["inputs"]["examples"]["dtype"] == "string"
    assert {"loss", "val_loss", "sparse_categorical_accuracy"} <= set(logged.metadata)
    assert "Training" in (tmp_path / "reports" / "training.html").read_text()


def test_evaluator_blesses_the_fixture_model(tmp_path):
    source = _stage_inputs(tmp_path, "examples", "model")
    blessed, blessing, logged = chain.run_evaluator(source, source, accuracy_threshold=0.9)
    assert blessed and blessing.metadata["blessed"] == 1
    assert logged.metadata["sparse_categorical_accuracy"] >= 0.9
    assert logged.metadata["example_count"] == _split_counts(os.path.join(FIX, "examples"))["Split-eval"]
    html = (tmp_path / "reports" / "evaluation.html").read_text()
    assert "Blessed" in html and "at least 0.9" in html


def test_evaluator_does_not_bless_below_threshold(tmp_path):
    source = _stage_inputs(tmp_path, "examples", "model")
    impossible = json.dumps({"model_specs": [{"label_key": "species"}], "metrics_specs": [{"metrics": [
        {"class_name": "SparseCategoricalAccuracy",
         "threshold": {"value_threshold": {"lower_bound": 2.0}}}]}]})
    blessed, blessing, _ = chain.run_evaluator(source, source, eval_config_json=impossible)
    assert not blessed and blessing.metadata["blessed"] == 0
    assert os.path.exists(os.path.join(blessing.path, "NOT_BLESSED"))
    assert "Not blessed" in (tmp_path / "reports" / "evaluation.html").read_text()


def test_pusher_pushes_the_fixture_model_which_serves_raw_features(tmp_path):
    import tensorflow as tf

    source = _stage_inputs(tmp_path, "model", "blessing")
    pushed = chain.run_pusher(source, source, str(tmp_path / "serving"))
    model = tf.saved_model.load(pushed.metadata["pushed_destination"])
    scores = model.signatures["serving_default"](
        culmen_length_mm=tf.constant([0.25, 0.9]), culmen_depth_mm=tf.constant([0.66, 0.2]),
        flipper_length_mm=tf.constant([0.15, 0.9]), body_mass_g=tf.constant([0.29, 0.8]))["scores"].numpy()
    assert scores.shape == (2, 3)
    assert scores[0].argmax() == 0 and scores[1].argmax() == 2
