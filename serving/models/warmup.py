"""Warmup: replays ``assets.extra/tf_serving_warmup_requests`` (a TFRecord of ``PredictionLog``,
at most 1000) before a version serves, as TF Serving does; a failing record fails the load.
"""

import itertools
import os

from tfx_kfp.serving.models import proto_handlers
from tfx_kfp.serving.protocol.errors import InvalidArgument, Unimplemented
from tfx_kfp.serving.models.servable import LoadedVersion, quiet_deprecations

__all__ = ["WARMUP_FILE", "MAX_WARMUP_RECORDS", "run_warmup"]

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_WARMUP_RECORDS = 1000


def run_warmup(version: LoadedVersion) -> int:
    """Replays the version's warmup requests, if any; returns how many (raises the first error)."""
    import tensorflow as tf

    path = version.path.rstrip("/") + "/" + WARMUP_FILE
    if not tf.io.gfile.exists(path):
        return 0
    from tensorflow_serving.apis import (classification_pb2, inference_pb2, predict_pb2,
                                         prediction_log_pb2, regression_pb2)

    with quiet_deprecations():
        records = list(itertools.islice(tf.compat.v1.io.tf_record_iterator(path),
                                        MAX_WARMUP_RECORDS + 1))
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
