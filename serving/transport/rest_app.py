"""The REST transport: a bare ASGI app on uvicorn, in a background thread; ``RestApi`` answers
on ``--rest_api_num_threads`` workers. Bodies have a deadline (408), count against the memory
budget (``rest_limits``) as they arrive, and are gunzipped as net_http does.
"""

import asyncio
import socket
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import uvicorn

from tfx_kfp.serving.protocol.errors import InvalidArgument, RequestTooLarge, ServingError
from tfx_kfp.serving.transport.rest_limits import (
    BodyBudget, Charge, Connections, RestLimits, decoded_size_bound, protocol_class,
)
from tfx_kfp.serving.protocol.rest_response import error_body

__all__ = ["RestServer"]


# The hop to a worker thread costs ~0.07 ms of a ~0.3 ms request (docs/serving.md);
# a request this short may hold the event loop instead, when nothing else waits on it.
_INLINE_MAX_SECONDS = 0.001


class _Disconnected(Exception):
    pass


async def _read_body(receive, declared: bytes, charge: Charge, timeout: float) -> bytes:
    """Reads the body within the deadline (else TimeoutError), charging every byte to the
    budget as it arrives."""
    if declared.isdigit() and int(declared) > charge.budget.limit:
        charge.take(int(declared))  # raises RequestTooLarge
    chunks = []
    more = True
    async with asyncio.timeout(timeout):  # cheaper than wait_for per chunk (no task)
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected()
            chunk = message.get("body", b"")
            if chunk:
                charge.take(len(chunk))
                chunks.append(chunk)
            more = message.get("more_body", False)
    return b"".join(chunks)


def _gunzip(body: bytes, charge: Charge) -> bytes:
    room = charge.budget.limit - charge.budget.used
    try:
        data = zlib.decompressobj(wbits=31).decompress(body, room + 1)
    except zlib.error as error:
        raise InvalidArgument(f"Cannot gunzip the request body: {error}") from None
    charge.take(len(data))  # more than the room left raises
    return data


class RestServer:
    """Serves a RestApi on ``host:port`` (0 picks a port). With ``inline_when_idle`` (not with
    batching) a short request is answered on the event loop when no other is in hand."""

    def __init__(self, api, host: str, port: int, num_threads: int = 16,
                 limits: Optional[RestLimits] = None, inline_when_idle: bool = True):
        self._api = api
        self.limits = limits or RestLimits()
        self._budget = BodyBudget(self.limits.body_memory_bytes)
        self._workers = ThreadPoolExecutor(max(1, num_threads), thread_name_prefix="tfx-kfp-rest")
        self._socket = socket.create_server(  # SO_REUSEADDR set, as uvicorn's own bind does
            (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.host = host
        self.port = self._socket.getsockname()[1]
        connections = Connections(self.limits)
        self._server = uvicorn.Server(uvicorn.Config(
            self._app, http=protocol_class(connections), interface="asgi3", lifespan="off",
            proxy_headers=False, access_log=False, log_level="warning",
            timeout_keep_alive=int(max(1, self.limits.keep_alive_timeout)), loop="auto",
            server_header=False, date_header=True))
        self._thread: Optional[threading.Thread] = None
        self._inline_when_idle = inline_when_idle
        self._busy = 0  # requests being handled (event-loop thread only)
        self._cost = 0.0  # recent seconds per request

    async def _app(self, scope, receive, send) -> None:
        # A bare ASGI app: TF Serving routes every method and path itself (RestApi),
        # including "Malformed request" answers, so no framework sits in between.
        if scope["type"] != "http":
            return
        answer = await self._answer(scope, receive)
        if answer is None:  # the client went away mid-request
            return
        status, headers, body = answer
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope, receive):
        path = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            # TF Serving matches its URL patterns against the path with the query.
            path += "?" + scope["query_string"].decode("latin-1")
        request_headers = dict(scope["headers"])  # names arrive lower-cased
        charge = Charge(self._budget)
        try:
            body = await _read_body(receive, request_headers.get(b"content-length", b""), charge,
                                    self.limits.body_timeout)
            if body and request_headers.get(b"content-encoding", b"").lower() == b"gzip":
                body = _gunzip(body, charge)
            if body:
                decoded = decoded_size_bound(body)
                if decoded > self._budget.limit:
                    raise RequestTooLarge(
                        f"Request body of {len(body)} bytes may take up to {decoded} bytes "
                        f"once decoded, more than the server's request memory budget "
                        f"({self._budget.limit} bytes)")
                charge.take(max(0, decoded - charge.bytes))
            origin = request_headers.get(b"origin", b"").decode("latin-1")
            self._busy += 1
            try:
                if self._busy == 1 and self._inline_when_idle and self._cost < _INLINE_MAX_SECONDS:
                    answer = self._timed_handle(scope["method"], path, body, origin)
                else:
                    answer = await asyncio.get_running_loop().run_in_executor(
                        self._workers, self._timed_handle, scope["method"], path, body, origin)
            finally:
                self._busy -= 1
            return answer.status, [(name.lower().encode("latin-1"), value.encode("latin-1"))
                                   for name, value in answer.headers], answer.body
        except TimeoutError:  # the body did not arrive in time
            return 408, [(b"connection", b"close")], b""
        except _Disconnected:
            return None
        except ServingError as error:
            return (error.http_status, [(b"content-type", b"application/json")],
                    error_body(error.message))
        finally:
            charge.release()

    def _timed_handle(self, method: str, path: str, body: bytes, origin: str):
        started = time.perf_counter()
        try:
            return self._api.handle(method, path, body, origin)
        finally:
            # A moving average over all requests; lost updates between threads are harmless.
            self._cost += (time.perf_counter() - started - self._cost) * 0.1

    def start(self) -> None:
        """Starts serving in a background thread; returns once it listens."""
        self._thread = threading.Thread(target=self._server.run, kwargs={
            "sockets": [self._socket]}, name=f"tfx-kfp-rest-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise OSError(f"the REST server on port {self.port} did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._socket.close()
        self._workers.shutdown(wait=False, cancel_futures=True)
