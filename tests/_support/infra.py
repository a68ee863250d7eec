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


def save_model_whose_init_op_blocks(model_root: str) -> str:
    """A SavedModel whose main op dequeues from a queue nothing ever feeds: TF Serving's loader never returns."""
    import tensorflow as tf

    v1 = tf.compat.v1
    path = os.path.join(model_root, "model", "Format-Serving")
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        features = v1.placeholder(tf.float32, [None], name=FEATURE)
        never_fed = tf.queue.FIFOQueue(1, [tf.float32], shapes=[[]], name="never_fed")
        builder = v1.saved_model.Builder(path)
        builder.add_meta_graph_and_variables(
            session, [tf.saved_model.SERVING], main_op=never_fed.dequeue().op,
            signature_def_map={"serving_default": v1.saved_model.predict_signature_def(
                {FEATURE: features}, {"scores": features * 2.0})})
        builder.save()
    return path
