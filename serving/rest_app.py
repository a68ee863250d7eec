"""The REST transport: TF Serving's REST API as a Starlette app served by uvicorn.

uvicorn (httptools parser, uvloop when installed) runs in a background thread;
requests are answered by :class:`tfx_kfp.serving.rest_api.RestApi` on a pool of
``--rest_api_num_threads`` worker threads. Beyond uvicorn, request bodies have a
deadline (408 when not complete within ``body_timeout`` seconds), count against
the memory budget of :mod:`tfx_kfp.serving.rest_limits` as they arrive, and are
decompressed when sent with ``Content-Encoding: gzip`` (net_http does).
"""

import asyncio
import logging
import socket
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from tfx_kfp.serving.errors import InvalidArgument, ServingError
from tfx_kfp.serving.rest_limits import BodyBudget, Charge, Connections, RestLimits, protocol_class
from tfx_kfp.serving.rest_response import error_body

__all__ = ["RestServer"]

log = logging.getLogger(__name__)


class _RequestTimeout(Exception):
    pass


class _Disconnected(Exception):
    pass


async def _read_body(request: Request, charge: Charge, timeout: float) -> bytes:
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


def _gunzip(body: bytes, charge: Charge) -> bytes:
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
        self._budget = BodyBudget(self.limits.body_memory_bytes)
        self._workers = ThreadPoolExecutor(max(1, num_threads), thread_name_prefix="tfx-kfp-rest")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host = host
        self.port = self._socket.getsockname()[1]
        connections = Connections(self.limits)
        self._config = uvicorn.Config(
            self._app, http=protocol_class(connections), interface="asgi3", lifespan="off",
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
        charge = Charge(self._budget)
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
