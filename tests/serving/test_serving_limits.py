"""Slow and large clients cannot starve the REST API (issue 14 item 8).

Regression for the probe's lockout: 300 slow connections (silent, trickling
headers, trickling a body) used to take every one of the old server's 256
connection slots, and normal requests were refused. Bounded: a few seconds,
loopback only.
"""

import json
import socket
import time

import pytest

from tests._support.serving import MODEL_NAME, RawHttp

PREDICT = f"/v1/models/{MODEL_NAME}:predict"
TWO_AND_A_HALF = b'{\n    "predictions": [2.5\n    ]\n}'


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
            assert raw.post(PREDICT, b'{"instances": [1.0]}') == (200, TWO_AND_A_HALF)
        assert time.monotonic() - started < 10
        time.sleep(1.5)  # past the shedding grace: new connections now push out the idle ones
        for _ in range(5):
            _connect(port).close()
        assert raw.post(PREDICT, b'{"instances": [1.0]}') == (200, TWO_AND_A_HALF)
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
    assert raw.post(PREDICT, b'{"instances": [1.0]}') == (200, TWO_AND_A_HALF)
