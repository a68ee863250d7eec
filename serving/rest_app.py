"""The REST transport: TF Serving's REST API as a Starlette app served by uvicorn.

uvicorn (httptools parser, uvloop when installed) runs in a background thread;
requests are answered by :class:`tfx_kfp.serving.rest_api.RestApi` on a pool of
``--rest_api_num_threads`` worker threads.

What uvicorn does not do for us, and TF Serving's net_http server does or a
shared local server needs (issue 14 item 8 of this project), is added here:

* header deadline: a connection that has not finished sending a request's
  headers within ``header_timeout`` seconds gets a 408 and is closed;
* body deadline: a body not complete within ``body_timeout`` seconds gets a 408;
* an overall budget for request bodies held in memory across all requests
  (``body_memory_bytes``): a request that cannot fit gets 503 (retry later), one
  larger than the whole budget gets 413; there is no per-request cap otherwise;
* connection shedding: above ``max_connections`` open connections, the
  connections that wait longest without an active request are closed, so new
  requests keep being served however many slow clients hold sockets open;
* ``Content-Encoding: gzip`` request bodies are decompressed (net_http does).
"""

import asyncio
import logging
import socket
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional, Set

import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tfx_kfp.serving.errors import InvalidArgument, RequestTooLarge, ServingError, Unavailable
from tfx_kfp.serving.rest_response import error_body

__all__ = ["RestLimits", "RestServer"]

log = logging.getLogger(__name__)

_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
_SHED_GRACE_SECONDS = 1.0
_MAX_URL_BYTES = 8192
_MAX_HEADER_BYTES = 65536


@dataclass
class RestLimits:
    """Bounds that keep slow or large clients from starving the others.

    Attributes:
        header_timeout: Seconds to receive a request's headers.
        body_timeout: Seconds to receive a request's whole body.
        body_memory_bytes: Request-body bytes held in memory, over all requests.
        max_connections: Open connections kept before idle/stalled ones are shed.
        keep_alive_timeout: Seconds an idle keep-alive connection stays open.
    """

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    body_memory_bytes: int = 1 << 30
    max_connections: int = 1000
    keep_alive_timeout: float = 5.0


class _BodyBudget:
    """Bytes of request bodies in memory, shared by all requests (event-loop thread only)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> None:
        if size > self.limit:
            raise RequestTooLarge(f"Request body of more than {self.limit} bytes exceeds the "
                                  "server's request memory budget")
        if self.used + size > self.limit:
            raise Unavailable("Request bodies in flight use up the server's request memory "
                              "budget; retry later")
        self.used += size


class _Charge:
    """The budget bytes one request holds; released when the request ends."""

    def __init__(self, budget: _BodyBudget):
        self.budget = budget
        self.bytes = 0

    def take(self, size: int) -> None:
        self.budget.take(size)
        self.bytes += size

    def release(self) -> None:
        self.budget.used -= self.bytes
        self.bytes = 0


class _Connections:
    """Which connections wait (for headers, or idle between requests) since when."""

    def __init__(self, limits: RestLimits):
        self.limits = limits
        self.waiting: dict = {}  # protocol -> monotonic time it started waiting
        self.open: Set = set()

    def shed(self) -> None:
        """Closes the longest-waiting connections beyond ``max_connections``.

        Connections waiting less than a second are spared, so a flood of new
        connections cannot push out a client that is about to send its request.
        """
        excess = len(self.open) - self.limits.max_connections
        if excess <= 0:
            return
        spare_after = time.monotonic() - _SHED_GRACE_SECONDS
        oldest = sorted((since, id(p), p) for p, since in self.waiting.items()
                        if since < spare_after)
        for _, _, protocol in oldest[:excess]:
            protocol.transport.close()


def _protocol_class(connections: _Connections):
    limits = connections.limits

    class DeadlineProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol plus a header deadline and shedding."""

        _header_timer = None
        _head_bytes = 0

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            connections.open.add(self)
            self._wait()
            connections.shed()

        def connection_lost(self, exc) -> None:
            connections.open.discard(self)
            connections.waiting.pop(self, None)
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            self._head_bytes = 0
            super().on_message_begin()
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(limits.header_timeout, self._late)

        def on_url(self, url: bytes) -> None:
            self._count(len(url), _MAX_URL_BYTES, b"414 URI Too Long")
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value), _MAX_HEADER_BYTES,
                        b"431 Request Header Fields Too Large")
            super().on_header(name, value)

        def _count(self, size: int, limit: int, status: bytes) -> None:
            # httptools sets no limits; answer, close, and stop the parser (raising here
            # makes uvicorn drop the connection).
            self._head_bytes += size
            if self._head_bytes > limit:
                self.transport.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n"
                                     b"Connection: close\r\n\r\n")
                self.transport.close()
                raise ValueError("request head too large")

        def on_headers_complete(self) -> None:
            self._disarm()
            connections.waiting.pop(self, None)
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._wait()

        def _wait(self) -> None:
            connections.waiting[self] = time.monotonic()
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(limits.header_timeout, self._late)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _late(self) -> None:
            self._header_timer = None
            if self in connections.waiting and not self.transport.is_closing():
                self.transport.write(_TIMEOUT_RESPONSE)
                self.transport.close()

    return DeadlineProtocol


class _RequestTimeout(Exception):
    pass


class _Disconnected(Exception):
    pass


async def _read_body(request: Request, charge: _Charge, timeout: float) -> bytes:
    """Reads the body within the deadline, charging every byte to the budget as it arrives."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > charge.budget.limit:
        charge.take(int(declared))  # raises RequestTooLarge
    chunks = []
    more = True
    try:
        async with asyncio.timeout(timeout):  # cheaper than wait_for per chunk (no task)
            while more:
                message = await request.receive()
                if message["type"] == "http.disconnect":
                    raise _Disconnected()
                chunk = message.get("body", b"")
                if chunk:
                    charge.take(len(chunk))
                    chunks.append(chunk)
                more = message.get("more_body", False)
    except TimeoutError:
        raise _RequestTimeout() from None
    return b"".join(chunks)


def _gunzip(body: bytes, charge: _Charge) -> bytes:
    room = charge.budget.limit - charge.budget.used
    try:
        data = zlib.decompressobj(wbits=31).decompress(body, room + 1)
    except zlib.error as error:
        raise InvalidArgument(f"Cannot gunzip the request body: {error}") from None
    charge.take(len(data))  # more than the room left raises
    return data


class RestServer:
    """Serves a RestApi on ``host:port`` (port 0 picks one; see ``port``).

    Args:
        api: The request handler (``handle(method, path, body, origin)``).
        host: Address to bind.
        port: Port to bind.
        num_threads: Worker threads running requests (``--rest_api_num_threads``).
        limits: Deadlines, memory budget and connection bounds.
    """

    def __init__(self, api, host: str, port: int, num_threads: int = 16,
                 limits: Optional[RestLimits] = None):
        self._api = api
        self.limits = limits or RestLimits()
        self._budget = _BodyBudget(self.limits.body_memory_bytes)
        self._workers = ThreadPoolExecutor(max(1, num_threads), thread_name_prefix="tfx-kfp-rest")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host = host
        self.port = self._socket.getsockname()[1]
        connections = _Connections(self.limits)
        self._config = uvicorn.Config(
            self._app, http=_protocol_class(connections), interface="asgi3", lifespan="off",
            proxy_headers=False, access_log=False,
            log_level="warning", timeout_keep_alive=int(max(1, self.limits.keep_alive_timeout)),
            loop="auto", server_header=False, date_header=True)
        self._server = uvicorn.Server(self._config)
        self._thread: Optional[threading.Thread] = None

    async def _app(self, scope, receive, send) -> None:
        # Starlette's Request/Response without its router: TF Serving routes every
        # method and path itself (RestApi), including "Malformed request" answers.
        if scope["type"] == "http":
            response = await self._endpoint(Request(scope, receive))
            if response is not None:  # None: the client went away mid-request
                await response(scope, receive, send)

    async def _endpoint(self, request: Request) -> Optional[Response]:
        scope = request.scope
        path = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            # TF Serving matches its URL patterns against the path with the query.
            path += "?" + scope["query_string"].decode("latin-1")
        charge = _Charge(self._budget)
        try:
            body = await _read_body(request, charge, self.limits.body_timeout)
            if request.headers.get("content-encoding", "").lower() == "gzip" and body:
                body = _gunzip(body, charge)
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(
                self._workers, self._api.handle, request.method, path, body,
                request.headers.get("origin", ""))
            return Response(answer.body, answer.status, dict(answer.headers))
        except _RequestTimeout:
            return Response(b"", 408, {"Connection": "close"})
        except _Disconnected:
            return None
        except ServingError as error:
            return Response(error_body(error.message), error.http_status,
                            {"Content-Type": "application/json"})
        finally:
            charge.release()

    def start(self) -> None:
        """Starts serving in a background thread; returns once the socket listens."""
        self._thread = threading.Thread(target=self._server.run, kwargs={
            "sockets": [self._socket]}, name=f"tfx-kfp-rest-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise OSError(f"the REST server on port {self.port} did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        """Stops accepting, closes connections, waits for the server thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._socket.close()
        self._workers.shutdown(wait=False, cancel_futures=True)
