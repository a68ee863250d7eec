"""Slow and large clients cannot starve the REST API (issue 14 item 8).

Regression for the probe's lockout: 300 slow connections (silent, trickling
headers, trickling a body) used to take every one of the old server's 256
connection slots, and normal requests were refused. Bounded: a few seconds,
loopback only.
"""

import json
import os
import shutil
import socket
import time

import pytest

from tests._support.serving import MODEL_NAME, RawHttp, parsed, reply

PREDICT = f"/v1/models/{MODEL_NAME}:predict"
TWO_AND_A_HALF = reply(200, {"predictions": [2.5]})


@pytest.fixture(scope="module")
def limited(half_plus_two_base):
    from tfx_kfp.serving import server
    from tfx_kfp.serving.transport.rest_limits import RestLimits

    limits = RestLimits(header_timeout=2.0, body_timeout=2.0, body_memory_bytes=1 << 20,
                        max_connections=64)
    with server.start(MODEL_NAME, half_plus_two_base, rest_port=0, grpc_port=None,
                      rest_limits=limits) as handle:
        handle.wait_until_available(120)
        yield handle


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _closed_by_server(sock: socket.socket, within: float) -> bytes:
    """What the server sends before closing (b"" if it just closes); fails if it keeps it open."""
    sock.settimeout(within)
    received = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return received
        received += chunk


def test_slow_connections_do_not_lock_out_normal_requests(limited):
    port = limited.rest_port
    slow = []
    try:
        for index in range(300):
            sock = _connect(port)
            if index % 3 == 1:
                sock.sendall(b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x")  # headers stall
            elif index % 3 == 2:
                sock.sendall(b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 1000\r\n\r\n{")  # body stalls
            slow.append(sock)
        started = time.monotonic()
        raw = RawHttp(port)
        for _ in range(20):
            assert parsed(raw.post(PREDICT, b'{"instances": [1.0]}')) == TWO_AND_A_HALF
        assert time.monotonic() - started < 10
        time.sleep(1.5)  # past the shedding grace: new connections now push out the idle ones
        for _ in range(5):
            _connect(port).close()
        assert parsed(raw.post(PREDICT, b'{"instances": [1.0]}')) == TWO_AND_A_HALF
        shed = 0
        for sock in slow[::3]:  # the silent ones, oldest first
            sock.settimeout(0.01)
            try:
                shed += sock.recv(1) == b""
            except (socket.timeout, ConnectionResetError):
                shed += 0
        assert shed > 0, "no idle connection was shed above max_connections"
    finally:
        for sock in slow:
            sock.close()


def test_header_deadline_answers_408_and_closes(limited):
    with _connect(limited.rest_port) as sock:
        sock.sendall(b"GET /v1/models/" + MODEL_NAME.encode() + b" HTTP/1.1\r\nHost: x")
        started = time.monotonic()
        assert _closed_by_server(sock, within=10).startswith(b"HTTP/1.1 408 ")
        assert 1.5 < time.monotonic() - started < 8


def test_body_deadline_answers_408(limited):
    with _connect(limited.rest_port) as sock:
        sock.sendall(b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 100\r\n\r\n{\"instances\"")
        assert _closed_by_server(sock, within=10).startswith(b"HTTP/1.1 408 ")


def test_body_memory_budget_is_shared_and_released(limited):
    raw = RawHttp(limited.rest_port)
    status, body = raw.post(PREDICT, b" " * (2 << 20))  # more than the whole budget
    assert status == 413 and "request memory budget" in json.loads(body)["error"]
    holders = []
    try:
        for _ in range(2):  # two unfinished 600 KiB bodies hold 1.2 MiB > the 1 MiB budget
            sock = _connect(limited.rest_port)
            sock.sendall(b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 700000\r\n\r\n" + b" " * 600000)
            holders.append(sock)
        answers = [_closed_by_server(sock, within=10) for sock in holders]
        # The second one to cross the budget is refused (503, retry later); the other waits.
        assert sum(a.startswith(b"HTTP/1.1 503 ") for a in answers) == 1, answers
        assert sum(a.startswith(b"HTTP/1.1 408 ") for a in answers) == 1, answers
    finally:
        for sock in holders:
            sock.close()
    # Everything held was given back: a normal request fits again.
    assert parsed(raw.post(PREDICT, b'{"instances": [1.0]}')) == TWO_AND_A_HALF


def test_an_endless_chunked_body_gets_413_not_retry_later(limited):
    # Issue 24: the budget can never hold it, however long it goes on: 413, as documented
    # (it used to be 503 "retry later", which the shipped client retried).
    with _connect(limited.rest_port) as sock:
        sock.sendall(b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
        try:
            for _ in range(64):  # 4 MiB, four times the budget
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed mid-body
        answer = _closed_by_server(sock, within=10)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"request memory budget" in answer


def test_the_client_does_not_retry_a_body_the_budget_cannot_hold(limited):
    from tfx_kfp.serving import RequestTooLarge, ServingClient

    started = time.monotonic()
    with ServingClient(rest_port=limited.rest_port, retries=3, retry_backoff=5.0) as client:
        with pytest.raises(RequestTooLarge):
            client.predict(MODEL_NAME, instances=[1.0] * 400_000)
    assert time.monotonic() - started < 5.0  # one attempt: a retry would wait 5 s first


def test_decoded_size_counts_against_the_budget(limited):
    # Issue 24: 343 MiB of bodies took the server from 1.8 to 3.6 GB. A 300 KB body of
    # [[1]] rows fits the 1 MiB budget as bytes but decodes to ~10 MB of Python objects.
    body = b'{"instances": [' + b",".join([b"[[1]]"] * 50_000) + b"]}"
    assert len(body) < 1 << 20
    status, answer = RawHttp(limited.rest_port).post(PREDICT, body)
    assert status == 413 and "once decoded" in json.loads(answer)["error"], answer[:300]
    assert parsed(RawHttp(limited.rest_port).post(PREDICT, b'{"instances": [1.0]}')) == \
        TWO_AND_A_HALF


@pytest.mark.parametrize("dtype_name, element", [
    ("DT_FLOAT", b"1.0"), ("DT_FLOAT", b"0.123456789"), ("DT_INT64", b"1"),
    ("DT_STRING", b'"ab"'), ("DT_STRING", b'{"b64": "YWJjZA=="}'), ("DT_FLOAT", b"[1.0,2.0]"),
    ("DT_FLOAT", b"[]"), ("DT_FLOAT", b"{}"), ("DT_FLOAT", b"[[1]]"), ("DT_FLOAT", b'{"x":1}'),
    ("DT_STRING", b'"' + b"a" * 1000 + b'"'), ("DT_STRING", b'{"b64": "' + b"QUFB" * 1000 + b'"}'),
])
def test_the_decoded_size_bound_holds_for_every_body_shape(dtype_name, element):
    # What parsing and tensor conversion allocate (tracemalloc) stays under the bound the
    # budget charges, for the shapes that expand most.
    import tracemalloc
    from types import SimpleNamespace

    from tfx_kfp.serving.protocol import tensors
    from tfx_kfp.serving.protocol.json_codec import parse_json_object
    from tfx_kfp.serving.protocol.rest_request import predict_inputs_from_json
    from tfx_kfp.serving.transport.rest_limits import decoded_size_bound

    count = max(1, 200_000 // len(element))
    body = b'{"instances": [' + b",".join([element] * count) + b"]}"
    infos = {"x": SimpleNamespace(dtype=getattr(tensors, dtype_name))}
    tracemalloc.start()
    try:
        try:
            predict_inputs_from_json(parse_json_object(body), infos, "")
        except Exception:  # noqa: BLE001 - a refused body allocated what it allocated
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= decoded_size_bound(body), (peak / len(body), decoded_size_bound(body) / len(body))


def test_grpc_calls_beyond_grpc_max_threads_are_refused_at_once(half_plus_two_base, tmp_path):
    # TF Serving (server.cc) gives its gRPC server --grpc_max_threads threads
    # (ResourceQuota::SetMaxThreads): a call that finds none free gets RESOURCE_EXHAUSTED.
    # Two reloads waiting for a model with no version yet hold both of two threads.
    import threading

    import grpc
    from google.protobuf import text_format
    from tensorflow_serving.apis import (model_management_pb2, model_service_pb2_grpc,
                                         predict_pb2, prediction_service_pb2_grpc)

    from tfx_kfp.serving import server

    (tmp_path / "later").mkdir()
    request = text_format.Parse(
        "config { model_config_list { "
        f'config {{ name: "{MODEL_NAME}" base_path: "{half_plus_two_base}" '
        'model_platform: "tensorflow" } '
        f'config {{ name: "later" base_path: "{tmp_path / "later"}" model_platform: '
        '"tensorflow" } } }', model_management_pb2.ReloadConfigRequest())
    with server.start(MODEL_NAME, half_plus_two_base, rest_port=None, grpc_port=0,
                      grpc_max_threads=2, poll_seconds=0.2) as handle:
        handle.wait_until_available(120)
        channel = grpc.insecure_channel(f"127.0.0.1:{handle.grpc_port}")
        reloads = [threading.Thread(target=model_service_pb2_grpc.ModelServiceStub(
            channel).HandleReloadConfigRequest, args=(request,), kwargs={"timeout": 120})
            for _ in range(2)]
        for thread in reloads:
            thread.start()
        time.sleep(1.0)
        predict = text_format.Parse(f'model_spec {{ name: "{MODEL_NAME}" }} inputs {{ key: "x" '
                                    'value { dtype: DT_FLOAT tensor_shape { dim { size: 1 } } '
                                    'float_val: 1.0 } }', predict_pb2.PredictRequest())
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.Predict(predict, timeout=10)
        assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        shutil.copytree(os.path.join(half_plus_two_base, "123"), tmp_path / "later" / "1")
        for thread in reloads:
            thread.join(60)
        assert stub.Predict(predict, timeout=10).outputs["y"].float_val == [2.5]
        channel.close()
