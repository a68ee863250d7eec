"""Warmup: replays ``assets.extra/tf_serving_warmup_requests`` before a version serves.

The file is a TFRecord of ``PredictionLog`` protos, as TF Serving reads it
(at most 1000 records; any failing record fails the load). Other files in
``assets.extra`` (e.g. the pusher's ``tfx_kfp_push.json``) are ignored.
"""

import os

from tfx_kfp.serving.models import proto_handlers
from tfx_kfp.serving.protocol.errors import InvalidArgument, Unimplemented
from tfx_kfp.serving.models.servable import LoadedVersion

__all__ = ["WARMUP_FILE", "MAX_WARMUP_RECORDS", "run_warmup", "write_warmup_file"]

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_WARMUP_RECORDS = 1000


def run_warmup(version: LoadedVersion) -> int:
    """Runs the version's warmup requests, if it has any.

    Returns:
        The number of records replayed.

    Raises:
        ServingError: The first failing record's error (the load then fails).
    """
    import tensorflow as tf

    path = version.path.rstrip("/") + "/" + WARMUP_FILE
    if not tf.io.gfile.exists(path):
        return 0
    from tensorflow_serving.apis import (classification_pb2, inference_pb2, predict_pb2,
                                         prediction_log_pb2, regression_pb2)

    from tfx_kfp.serving.models.servable import _quiet_deprecations

    with _quiet_deprecations():
        records = list(_read_records(tf, path))
    replays = {
        "predict_log": (proto_handlers.run_predict, predict_pb2.PredictResponse),
        "classify_log": (proto_handlers.run_classify, classification_pb2.ClassificationResponse),
        "regress_log": (proto_handlers.run_regress, regression_pb2.RegressionResponse),
        "multi_inference_log": (proto_handlers.run_multi_inference,
                                inference_pb2.MultiInferenceResponse),
    }
    count = 0
    for record in records:
        log_entry = prediction_log_pb2.PredictionLog()
        try:
            log_entry.ParseFromString(record)
        except Exception:  # noqa: BLE001 - protobuf raises DecodeError subclasses
            raise InvalidArgument(
                f"Failed to parse warmup record: {record!r} from {path}") from None
        kind = log_entry.WhichOneof("log_type")
        if kind not in replays:
            raise Unimplemented(f"Unsupported log_type for warmup: {kind}")
        run, response_class = replays[kind]
        run(version, getattr(log_entry, kind).request, response_class())
        count += 1
        if count > MAX_WARMUP_RECORDS:
            raise InvalidArgument(f"Number of warmup records exceeds the maximum "
                                  f"({MAX_WARMUP_RECORDS}) at {path}")
    return count


def _read_records(tf, path: str):
    count = 0
    for record in tf.compat.v1.io.tf_record_iterator(path):
        count += 1
        if count > MAX_WARMUP_RECORDS + 1:
            return
        yield record


def write_warmup_file(version_dir: str, prediction_logs) -> str:
    """Writes PredictionLog protos as a version's warmup file; returns its path."""
    import tensorflow as tf

    path = os.path.join(version_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for entry in prediction_logs:
            writer.write(entry.SerializeToString())
    return path
