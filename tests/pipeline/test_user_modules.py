"""Users' own modules through the generic pipeline with its defaults: blessed, infra-blessed, pushed, served.

TFX's own chicago-taxi module (``taxi_utils_native_keras.py``, from the tfx wheel, with its
``data/simple`` CSV) and a binary module written the way TFX users write them (one sigmoid output,
``tf.saved_model.save``) run unchanged; the pushed version answers through TF Serving's TF1 loader.
One run per module: these are the slowest tests of the suite.
"""

import csv
import os
import random

import pytest

from tfx_kfp import local
from tfx_kfp.pipelines.presets import build_pipeline

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY_MODULE = os.path.join(os.path.dirname(HERE), "data", "binary_module.py")


def _taxi_folder():
    import tfx

    return os.path.join(os.path.dirname(tfx.__file__), "examples", "chicago_taxi_pipeline")


def _fruit_csv(folder, rows=300, seed=11):
    rng = random.Random(seed)
    folder.mkdir()
    with open(folder / "fruit.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["weight_g", "color", "fruit"])
        for _ in range(rows):
            fruit = rng.randint(0, 1)  # 0 = apple (red/green, heavier), 1 = banana (yellow, lighter)
            color = rng.choice(["red", "green"]) if fruit == 0 else "yellow"
            weight = rng.gauss(180, 20) if fruit == 0 else rng.gauss(120, 15)
            writer.writerow([round(weight, 1), color, fruit])


def _run(tmp_path, data_root, module_path, label_key, **params):
    with open(module_path) as f:
        source = f.read()
    pipeline = build_pipeline("training", target="local", params={
        "data_root": str(data_root), "module_source": source, "label_key": label_key,
        "serving_base_dir": str(tmp_path / "serving"), "beam_pipeline_args": ["--direct_running_mode=in_memory"],
        **params})
    return local.run_pipeline(pipeline, runner="inprocess", pipeline_root=str(tmp_path / "runs"))


def _answers_in_tf_serving_loader(result, count=3):
    """Scores of the pushed version's serving_default on eval examples, through the TF1 SavedModelBundle loader."""
    import tensorflow as tf

    from tfx_kfp.components.infra_validator.executor import SERVING_TAGS
    from tfx_kfp.components.infra_validator.request_builder import read_eval_examples

    examples = result.tasks["example-gen"].artifacts["examples"]
    records = read_eval_examples(examples.uri, examples.metadata.get("split_names", ""), count)
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, SERVING_TAGS, result.pushed_destination)
        signature = meta_graph.signature_def["serving_default"]
        (name, tensor), = signature.inputs.items()
        outputs = session.run({k: v.name for k, v in signature.outputs.items()}, {tensor.name: records})
    return outputs


def _assert_pushed_and_serving(result, metric):
    assert result.blessed is True
    assert result.metadata("evaluator", "blessing")["blessing_metric"] == metric
    assert result.metadata("infra-validator", "infra_blessing")["blessed"] == 1
    assert result.state("pusher") == "done" and result.pushed_destination
    (scores,) = _answers_in_tf_serving_loader(result).values()
    assert scores.shape[0] == 3 and ((0 <= scores) & (scores <= 1)).all()


def test_tfx_taxi_module_unchanged_is_blessed_pushed_and_served(tmp_path):
    """TFX's taxi module and data: binary (one sigmoid output), the label through its transform_features."""
    folder = _taxi_folder()
    data_root = os.path.join(folder, "data", "simple")
    assert os.path.isfile(os.path.join(data_root, "data.csv")), "the tfx wheel ships data/simple/data.csv"
    result = _run(tmp_path, data_root, os.path.join(folder, "taxi_utils_native_keras.py"), "tips",
                  train_steps=20, eval_steps=5)
    _assert_pushed_and_serving(result, "binary_accuracy")
    matrix = result.metadata("evaluator", "confusion_matrix")["confusionMatrix"]
    assert [row["row"] for row in matrix["rows"]] and len(matrix["annotationSpecs"]) == 2


def test_binary_module_saved_with_tf_saved_model_save_is_blessed_pushed_and_served(tmp_path):
    _fruit_csv(tmp_path / "data")
    result = _run(tmp_path, tmp_path / "data", BINARY_MODULE, "fruit", train_steps=30, eval_steps=5,
                  accuracy_threshold=0.8)
    _assert_pushed_and_serving(result, "binary_accuracy")
    assert result.eval_accuracy >= 0.8
    with open(os.path.join(result.run_dir, "trainer", "report")) as f:
        assert "val_loss" in f.read()  # the TensorBoard callback's curves reach the Trainer's report
