"""The pushed warmup file follows TF Serving 2.16.1's replay rules (issue 19 item 5).

TF Serving replays ``assets.extra/tf_serving_warmup_requests`` when it loads a version, and a record it
cannot replay fails the load. The rules, read in tensorflow/serving at tag 2.16.1
(0d726954f36a2b6c6bfb60a4caec311f2b3e3101), ``tensorflow_serving/servables/tensorflow/``:

* ``saved_model_warmup_util.cc`` ``RunSavedModelWarmup``: the file is read with a
  ``SequentialRecordReader`` with default options (an uncompressed TFRecord: length, masked CRC-32C of
  the length, data, masked CRC-32C of the data; ``tensorflow/core/lib/io/record_reader.cc``); each
  record must parse as a ``PredictionLog``; more than ``kMaxNumRecords`` (1000,
  ``saved_model_warmup_util.h`` line 30) fails the load.
* ``saved_model_warmup.cc`` ``RunWarmupRequest`` (lines 42-72): regress, classify, predict and
  multi_inference logs are replayed; ``predict_streamed_log`` and ``session_run_log`` are refused.

Here they are applied to the file our InfraValidator writes for the penguin fixture model and the
Pusher copies into the version, by a reader written from those rules (not TensorFlow's).
"""

import os
import struct

import google_crc32c
import pytest

from tests._support import chain
from tfx_kfp.components import names
from tfx_kfp.components.pusher import executor as push

pytestmark = pytest.mark.serving

MAX_NUM_RECORDS = 1000  # WarmupConsts::kMaxNumRecords
REPLAYED = {"regress_log", "classify_log", "predict_log", "multi_inference_log"}
MASK_DELTA = 0xA282EAD8  # tensorflow/core/lib/hash/crc32c.h Mask()


def masked_crc(data: bytes) -> int:
    crc = google_crc32c.value(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + MASK_DELTA) & 0xFFFFFFFF


def tfrecords(path: str):
    """Every record of an uncompressed TFRecord file, each frame's CRCs checked."""
    with open(path, "rb") as f:
        data = f.read()
    offset, records = 0, []
    while offset < len(data):
        header = data[offset:offset + 12]
        assert len(header) == 12, f"truncated record header at byte {offset}"
        (length,), (length_crc,) = struct.unpack("<Q", header[:8]), struct.unpack("<I", header[8:])
        assert length_crc == masked_crc(header[:8]), f"length CRC mismatch at byte {offset}"
        body = data[offset + 12:offset + 12 + length]
        (body_crc,) = struct.unpack("<I", data[offset + 12 + length:offset + 16 + length])
        assert len(body) == length and body_crc == masked_crc(body), f"data CRC mismatch at byte {offset}"
        records.append(body)
        offset += 16 + length
    return records


@pytest.fixture(scope="module")
def pushed_version(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("infra"))
    blessed, infra_blessing = chain.run_infra_validator(chain.FIXTURES, out)
    assert blessed is True
    warmup = os.path.join(infra_blessing.path, names.WARMUP_FILE)
    _, target, _ = push.push_saved_model(
        os.path.join(chain.FIXTURES, "model", names.SERVING_MODEL_DIR), os.path.join(out, "models", "penguin"),
        extra_files={os.path.join("assets.extra", names.WARMUP_FILE): warmup})
    return target


def test_pushed_warmup_file_is_what_tf_serving_2_16_1_replays(pushed_version):
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow_serving.apis import prediction_log_pb2

    path = os.path.join(pushed_version, "assets.extra", "tf_serving_warmup_requests")  # kRequestsFileName
    records = tfrecords(path)
    assert 0 < len(records) <= MAX_NUM_RECORDS
    saved_model = saved_model_pb2.SavedModel.FromString(open(os.path.join(pushed_version, "saved_model.pb"), "rb")
                                                        .read())
    (graph,) = saved_model.meta_graphs
    for record in records:
        log = prediction_log_pb2.PredictionLog.FromString(record)
        kind = log.WhichOneof("log_type")
        assert kind in REPLAYED
        request = getattr(log, kind).request
        assert request.model_spec.signature_name in graph.signature_def  # replayed against this version


def test_the_infra_validator_never_writes_more_records_than_tf_serving_replays():
    from tfx_kfp.components.infra_validator import request_builder
    from tfx_kfp.serving.models.warmup import MAX_WARMUP_RECORDS

    assert MAX_WARMUP_RECORDS == MAX_NUM_RECORDS
    calls = [type("Call", (), {"log": i}) for i in range(MAX_NUM_RECORDS + 5)]
    plan = request_builder.SignatureRequests(signature="serving_default", api="predict", calls=calls)
    assert len(request_builder.warmup_logs([plan, plan])) == MAX_NUM_RECORDS
