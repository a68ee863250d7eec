"""Request batching with TF Serving's BatchingParameters (batching_session.cc, 2.16.1)."""

import os
import shutil
import threading

import pytest

from tests._support.serving import RawHttp
from tfx_kfp.serving import InvalidArgument, ServingClient, server
from tfx_kfp.serving.models.batching import BatchingOptions, batching_options_from_proto

TESTDATA = os.path.join(os.path.dirname(__file__), "testdata", "saved_model_half_plus_two_cpu")


def test_batching_parameters_file_is_tf_servings_text_proto(tmp_path):
    # The example file of TF Serving's batching guide (serving_config.md), less thread_pool_name.
    path = tmp_path / "batching.txt"
    path.write_text("max_batch_size { value: 128 }\nbatch_timeout_micros { value: 0 }\n"
                    "max_enqueued_batches { value: 1000000 }\nnum_batch_threads { value: 8 }\n"
                    "allowed_batch_sizes: 64\nallowed_batch_sizes: 128\n")
    from tfx_kfp.serving.models.config import parse_batching_parameters

    options = batching_options_from_proto(parse_batching_parameters(str(path)))
    assert options == BatchingOptions(128, 0, 1000000, 8, (64, 128))
    path.write_text("max_batch_size { value: 128 }\nnot_a_field: 1\n")
    with pytest.raises(InvalidArgument, match=r"batching.txt: not a text BatchingParameters"):
        parse_batching_parameters(str(path))


def test_allowed_batch_sizes_must_end_at_max_batch_size():
    with pytest.raises(InvalidArgument, match="last entry must equal max_batch_size"):
        BatchingOptions(max_batch_size=8, allowed_batch_sizes=(2, 4))


@pytest.fixture(scope="module")
def batched(tmp_path_factory):
    base = tmp_path_factory.mktemp("batched") / "hpt"
    shutil.copytree(TESTDATA, base)
    options = BatchingOptions(max_batch_size=8, batch_timeout_micros=20000, num_batch_threads=1,
                              allowed_batch_sizes=(4, 8))
    # 12 concurrent gRPC clients: more than the default --grpc_max_threads (4 per core)
    # lets run at once (the rest would get RESOURCE_EXHAUSTED, as from TF Serving).
    with server.start("hpt", str(base), rest_port=0, grpc_port=0, batching=options,
                      grpc_max_threads=32) as handle:
        handle.wait_until_available(120)
        yield handle


def test_concurrent_requests_are_batched_and_answered_each_their_own(batched):
    results = {}

    def call(index, protocol):
        with ServingClient(rest_port=batched.rest_port, grpc_port=batched.grpc_port,
                           protocol=protocol) as client:
            results[(index, protocol)] = client.predict("hpt", instances=[float(index)] * (
                1 + index % 3))

    threads = [threading.Thread(target=call, args=(i, p)) for i in range(12)
               for p in ("rest", "grpc")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for (index, _), result in results.items():
        assert result == {"predictions": [0.5 * index + 2] * (1 + index % 3)}
    assert len(results) == 24


def test_a_request_larger_than_max_batch_size_is_refused(batched):
    status, body = RawHttp(batched.rest_port).post("/v1/models/hpt:predict",
                                                   b'{"instances": [1,2,3,4,5,6,7,8,9]}')
    assert status == 400
    assert b"Task size 9 is larger than maximum input batch size 8" in body
