"""REST conformance of the HTTP layer: routing, malformed requests, and HTTP/1.1 behaviour.

As in :mod:`tests.serving.test_serving_rest_conformance`, expected bytes follow TF
Serving 2.16.1 (``http_rest_api_handler.cc``, ``http_rest_api_util.cc``, and libevent's
answers for paths outside ``/v1/``).
"""

import json

import pytest

from tests._support.serving import MODEL_NAME, RawHttp, parsed, reply
from tests.serving.test_serving_rest_conformance import PREDICT, STATUS_AVAILABLE, error


# ----------------------------------------------------------------- routing


@pytest.mark.parametrize("method, path", [
    ("POST", f"/v1/models/{MODEL_NAME}"),
    ("PUT", f"/v1/models/{MODEL_NAME}:predict"),
    ("POST", f"/v1/models/{MODEL_NAME}:PREDICT"),
    ("HEAD", f"/v1/models/{MODEL_NAME}"),
    ("GET", f"/v1/models/{MODEL_NAME}/versions/abc"),
    ("DELETE", "/v1/anything"),
])
def test_malformed_requests(rest: RawHttp, method, path):
    status, _, body = rest.request(method, path, b"{}" if method in ("POST", "PUT") else None)
    assert status == 400
    if method != "HEAD":
        assert parsed((status, body)) == error(400, f"Malformed request: {method} {path}")


def test_version_overflow_has_empty_body(rest: RawHttp):
    status, headers, body = rest.request("GET", f"/v1/models/{MODEL_NAME}/versions/"
                                                "99999999999999999999")
    assert (status, body, headers["content-type"]) == (400, b"", "application/json")


def test_paths_outside_v1_are_libevent_404(rest: RawHttp):
    status, headers, body = rest.request("GET", "/healthz")
    assert status == 404
    assert headers["content-type"] == "text/html"
    assert body == (b"<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n"
                    b"<H1>Not Found</H1>\n</BODY></HTML>\n")


LIBEVENT_400 = (b"<HTML><HEAD>\n<TITLE>400 Bad Request</TITLE>\n</HEAD><BODY>\n"
                b"<H1>Bad Request</H1>\n</BODY></HTML>\n")


@pytest.mark.parametrize("method, target", [
    # net_http's ParsedEvRequest::decode: evhttp_uri_parse refuses the target, or libevent
    # names no such method; EvHTTPServer answers evhttp_send_error(400) before any routing.
    ("GET", f"/v1/models/{MODEL_NAME}%zz"),
    ("POST", f"/v1/models/half%5plus:predict"),
    ("GET", f"/v1/models/{MODEL_NAME}%"),
    ("GET", "/v1/models/a%2"),
    ("GET", "/v1/models/{x}"),
    ("GET", '/v1/models/"x"'),
    ("GET", "/v1/models/a|b"),
    ("GET", "/v1/models/a^b"),
    ("GET", "/v1/models/a\\b"),
    ("GET", f"/v1/models/{MODEL_NAME}?q=%g0"),
    ("GET", "/healthz<"),
    ("PROPFIND", f"/v1/models/{MODEL_NAME}"),
])
def test_targets_and_methods_libevent_refuses_are_400(hpt_server, method, target):
    import socket

    with socket.create_connection(("127.0.0.1", hpt_server.rest_port), timeout=10) as sock:
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = b""
        while chunk := sock.recv(65536):  # the server closes the connection, as libevent does
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), received
    assert b"connection: close" in head.lower() and body == LIBEVENT_400


def test_non_ascii_bytes_in_the_target_are_400(hpt_server):
    import socket

    with socket.create_connection(("127.0.0.1", hpt_server.rest_port), timeout=10) as sock:
        sock.sendall(b"GET /v1/models/caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 400 ")


def test_cors_preflight(rest: RawHttp):
    assert rest.request("OPTIONS", PREDICT)[::2] == (400, b"")
    assert rest.request("OPTIONS", PREDICT, headers={"Origin": "http://x"})[::2] == (200, b"")


def test_case_insensitive_paths_and_percent_encoded_names(rest: RawHttp):
    status, body = rest.post("/V1/MODELS/half%5Fplus%5Ftwo:predict", b'{"instances": [0]}')
    assert parsed((status, body)) == reply(200, {"predictions": [2.0]})


def test_query_strings_are_part_of_the_path_as_in_tf_serving(rest: RawHttp):
    # http_rest_api_handler.cc matches its patterns against the URI with its query:
    # a prediction path no longer matches (400), a status path names another model (404).
    assert parsed(rest.post(PREDICT + "?verbose=1", b'{"instances": [1.0]}')) == error(
        400, f"Malformed request: POST {PREDICT}?verbose=1")
    assert parsed(rest.get(f"/v1/models/{MODEL_NAME}?verbose=1")) == error(
        404, f"Could not find any versions of model {MODEL_NAME}?verbose=1")


def test_keep_alive_and_chunked_bodies(hpt_server):
    import socket

    with socket.create_connection(("127.0.0.1", hpt_server.rest_port), timeout=10) as sock:
        chunked = (f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "e\r\n{\"instances\": \r\nb\r\n[1.0, 2.0]}\r\n0\r\n\r\n").encode()
        plain = (f"GET /v1/models/{MODEL_NAME} HTTP/1.1\r\nHost: x\r\n\r\n").encode()
        sock.sendall(chunked + plain)
        received = b""
        while received.count(b"HTTP/1.1 200 OK") < 2 or not received.endswith(b"]}"):
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
    first, second = (part.partition(b"\r\n\r\n")[2] for part in received.split(b"HTTP/1.1 ")[1:])
    assert parsed((200, first)) == reply(200, {"predictions": [2.5, 3.0]})
    assert parsed((200, second)) == reply(200, STATUS_AVAILABLE)


def test_gzip_request_bodies_are_decompressed(rest: RawHttp):
    import gzip

    status, _, body = rest.request("POST", PREDICT, gzip.compress(b'{"instances": [1.0, 2.0]}'),
                                   {"Content-Encoding": "gzip"})
    assert parsed((status, body)) == reply(200, {"predictions": [2.5, 3.0]})
    status, _, body = rest.request("POST", PREDICT, b"not gzip", {"Content-Encoding": "gzip"})
    assert status == 400 and "Cannot gunzip" in json.loads(body)["error"]


def test_head_has_no_body_and_keeps_the_connection(hpt_server):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", hpt_server.rest_port, timeout=10)
    try:
        connection.request("HEAD", f"/v1/models/{MODEL_NAME}")
        response = connection.getresponse()
        assert (response.status, response.read()) == (400, b"")
        connection.request("GET", f"/v1/models/{MODEL_NAME}")  # same connection
        response = connection.getresponse()
        assert parsed((response.status, response.read())) == reply(200, STATUS_AVAILABLE)
    finally:
        connection.close()


def test_no_per_request_size_cap(rest: RawHttp):
    # TF Serving has no body cap; only the overall memory budget (test_serving_limits) applies.
    big = b'{"instances": [1.0, 2.0]' + b" " * (65 << 20) + b"}"  # 65 MiB, mostly whitespace
    assert parsed(rest.post(PREDICT, big)) == reply(200, {"predictions": [2.5, 3.0]})
