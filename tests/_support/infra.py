"""Helpers of the InfraValidator tests: the fixture's eval examples, the executor's outputs and report."""

import glob
import os

from tests._support import chain

FEATURE = "culmen_length_mm"  # a float feature of every penguin example
NUM_EXAMPLES = 10


def eval_records(count: int):
    import tensorflow as tf

    files = sorted(glob.glob(os.path.join(chain.FIXTURES, "examples", "Split-eval", "*.gz")))
    return [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP").take(count)]


def outputs(infra_blessing) -> set:
    return set(os.listdir(infra_blessing.path))


def report(out) -> str:
    return open(os.path.join(out, "reports", "infra_validation.md")).read()


def warmup_logs(path: str):
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    return [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(path)]


def save_module(module, model_root: str, signatures) -> str:
    import tensorflow as tf

    path = os.path.join(model_root, "model", "Format-Serving")
    tf.saved_model.save(module, path, signatures=signatures)
    return path
