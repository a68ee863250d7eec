"""A small threaded HTTP/1.1 server for the REST API.

One thread per connection with keep-alive, ``Content-Length`` and chunked
bodies, ``Expect: 100-continue``, and hard limits: request line 8 KiB,
headers 64 KiB / 100 fields, body ``max_body_bytes`` (413 beyond it), idle
connections closed after ``idle_timeout`` seconds, at most
``max_connections`` open connections (503 beyond). Malformed HTTP gets a 400
and the connection is closed; nothing a client sends stops the server.
"""

import email.utils
import http
import logging
import socket
import threading
import time
from typing import Callable, Optional, Set, Tuple

from tfx_kfp.serving.errors import RequestTooLarge
from tfx_kfp.serving.json_writer import error_body

__all__ = ["HttpServer", "Handler"]

log = logging.getLogger(__name__)

# handler(method, path, body, origin) -> (status, headers, body)
Handler = Callable[[str, str, bytes, str], Tuple[int, list, bytes]]

_MAX_REQUEST_LINE = 8192
_MAX_HEADER_BYTES = 65536
_MAX_HEADERS = 100


class _BadRequest(Exception):
    def __init__(self, status: int, message: str, body: Optional[bytes] = None):
        super().__init__(message)
        self.status = status
        self.body = body


def _reason(status: int) -> str:
    if status == 499:
        return "Client Closed Request"
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _DateCache:
    def __init__(self):
        self._second = 0
        self._value = ""

    def get(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._second, self._value = now, email.utils.formatdate(now, usegmt=True)
        return self._value


class HttpServer:
    """Serves ``handler`` over HTTP/1.1 on ``host:port`` (port 0 picks a free port).

    Args:
        handler: Request callback; exceptions become 500 responses.
        host: Address to bind (loopback by default in callers).
        port: Port; 0 picks one (see ``port`` after construction).
        max_body_bytes: Largest accepted request body.
        max_connections: Most concurrent connections.
        idle_timeout: Seconds a keep-alive connection may sit idle or stall.
    """

    def __init__(self, handler: Handler, host: str, port: int, max_body_bytes: int = 64 << 20,
                 max_connections: int = 256, idle_timeout: float = 60.0):
        self._handler = handler
        self._max_body = max_body_bytes
        self._max_connections = max_connections
        self._idle_timeout = idle_timeout
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self._socket.listen(512)
        self.host = host
        self.port = self._socket.getsockname()[1]
        self._connections: Set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._accept_thread: Optional[threading.Thread] = None
        self._dates = _DateCache()

    def start(self) -> None:
        """Starts accepting connections in a background thread."""
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name=f"tfx-kfp-rest-{self.port}")
        self._accept_thread.start()

    def stop(self) -> None:
        """Stops accepting, closes open connections, and returns when done."""
        self._stopping.set()
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._socket.close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._accept_thread is not None:
            self._accept_thread.join(5)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                if self._stopping.is_set():
                    return
                time.sleep(0.01)
                continue
            with self._lock:
                too_many = len(self._connections) >= self._max_connections
                if not too_many:
                    self._connections.add(connection)
            if too_many:
                self._reject_busy(connection)
                continue
            threading.Thread(target=self._serve_connection, args=(connection,), daemon=True,
                             name="tfx-kfp-rest-conn").start()

    def _reject_busy(self, connection: socket.socket) -> None:
        try:
            body = error_body("Too many open connections; try again later")
            connection.sendall(self._head(503, [("Content-Type", "application/json")],
                                          len(body), False) + body)
        except OSError:
            pass
        finally:
            connection.close()

    def _head(self, status: int, headers: list, length: int, keep_alive: bool) -> bytes:
        lines = [f"HTTP/1.1 {status} {_reason(status)}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        lines.append(f"Date: {self._dates.get()}")
        lines.append(f"Content-Length: {length}")
        if not keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _serve_connection(self, connection: socket.socket) -> None:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.settimeout(self._idle_timeout)
        reader = connection.makefile("rb", buffering=65536)
        try:
            while not self._stopping.is_set():
                try:
                    request = self._read_request(reader, connection)
                except _BadRequest as error:
                    body = error.body if error.body is not None else error_body(str(error))
                    connection.sendall(self._head(
                        error.status, [("Content-Type", "application/json")], len(body),
                        False) + body)
                    self._drain(connection)
                    return
                if request is None:
                    return
                method, path, body, origin, keep_alive = request
                try:
                    status, headers, payload = self._handler(method, path, body, origin)
                except Exception:  # noqa: BLE001 - the handler should not raise; be safe
                    log.exception("REST handler failed")
                    status, headers, payload = 500, [("Content-Type", "application/json")], \
                        error_body("Internal server error")
                connection.sendall(self._head(status, headers, len(payload), keep_alive)
                                   + payload)
                if not keep_alive:
                    return
        except (OSError, ValueError):
            pass  # client went away or timed out
        finally:
            with self._lock:
                self._connections.discard(connection)
            try:
                reader.close()
                connection.close()
            except OSError:
                pass

    @staticmethod
    def _drain(connection: socket.socket, limit: int = 256 << 20, seconds: float = 2.0) -> None:
        """Reads and drops what the client still sends, so it sees our answer, not a reset."""
        try:
            connection.shutdown(socket.SHUT_WR)
            connection.settimeout(0.2)
            deadline = time.monotonic() + seconds
            received = 0
            while received < limit and time.monotonic() < deadline:
                chunk = connection.recv(1 << 16)
                if not chunk:
                    return
                received += len(chunk)
        except OSError:
            pass

    def _read_request(self, reader, connection):
        line = reader.readline(_MAX_REQUEST_LINE + 1)
        while line in (b"\r\n", b"\n"):  # tolerate blank lines between requests
            line = reader.readline(_MAX_REQUEST_LINE + 1)
        if not line:
            return None
        if len(line) > _MAX_REQUEST_LINE or not line.endswith(b"\n"):
            raise _BadRequest(414, "Request line too long")
        parts = line.decode("latin-1").rstrip("\r\n").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest(400, "Malformed HTTP request line")
        method, target, version = parts
        headers = {}
        total = 0
        while True:
            header = reader.readline(_MAX_HEADER_BYTES + 1)
            total += len(header)
            if total > _MAX_HEADER_BYTES or len(headers) > _MAX_HEADERS:
                raise _BadRequest(431, "Request headers too large")
            if not header:
                return None
            if header in (b"\r\n", b"\n"):
                break
            name, sep, value = header.decode("latin-1").partition(":")
            if not sep or not name or name != name.strip():
                raise _BadRequest(400, "Malformed HTTP header")
            headers[name.lower()] = value.strip()
        connection_header = headers.get("connection", "").lower()
        keep_alive = ("close" not in connection_header if version == "HTTP/1.1"
                      else "keep-alive" in connection_header)
        body = self._read_body(reader, connection, headers)
        path = target.split("?", 1)[0].split("#", 1)[0]
        if path.startswith(("http://", "https://")):
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return method, path, body, headers.get("origin", ""), keep_alive

    def _too_large(self, size_text: str) -> _BadRequest:
        error = RequestTooLarge(
            f"Request body of {size_text} bytes exceeds the limit of {self._max_body} bytes")
        return _BadRequest(error.http_status, error.message, error_body(error.message))

    def _read_body(self, reader, connection, headers) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            if headers.get("expect", "").lower() == "100-continue":
                connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            return self._read_chunked(reader)
        length_text = headers.get("content-length")
        if length_text is None:
            return b""
        if not length_text.isdigit():
            raise _BadRequest(400, f"Invalid Content-Length: {length_text}")
        length = int(length_text)
        if length > self._max_body:
            raise self._too_large(str(length))
        if headers.get("expect", "").lower() == "100-continue":
            connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = reader.read(length)
        if len(body) != length:
            raise OSError("connection closed mid-body")
        return body

    def _read_chunked(self, reader) -> bytes:
        pieces = []
        total = 0
        while True:
            line = reader.readline(1026)
            if not line.endswith(b"\n"):
                raise _BadRequest(400, "Malformed chunked body")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequest(400, "Malformed chunk size") from None
            if size < 0:
                raise _BadRequest(400, "Malformed chunk size")
            if size == 0:
                while reader.readline(_MAX_HEADER_BYTES) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(pieces)
            total += size
            if total > self._max_body:
                raise self._too_large(f"more than {self._max_body}")
            chunk = reader.read(size)
            if len(chunk) != size:
                raise OSError("connection closed mid-chunk")
            pieces.append(chunk)
            reader.readline(3)
