"""Limits of the REST transport that uvicorn does not set: a header deadline (408), request
heads (URL over 8 KiB: 414, header fields over 64 KiB: 431), one memory budget for bodies over
all requests (503 when it does not fit now, 413 when it never could), and shedding the
longest-waiting idle connections beyond ``max_connections``.
"""

import time
from dataclasses import dataclass
from typing import Set

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tfx_kfp.serving.protocol.errors import RequestTooLarge, Unavailable

__all__ = ["RestLimits", "BodyBudget", "Charge", "Connections", "decoded_size_bound",
           "protocol_class"]

_SHED_GRACE_SECONDS = 1.0
_MAX_URL_BYTES = 8192
_MAX_HEADER_BYTES = 65536


@dataclass
class RestLimits:
    """Bounds that keep slow or large clients from starving the others (seconds, bytes)."""

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    body_memory_bytes: int = 1 << 30
    max_connections: int = 1000
    keep_alive_timeout: float = 5.0


def decoded_size_bound(body: bytes) -> int:
    """An upper bound of the memory a REST body takes once parsed and converted to tensors:
    measured with tracemalloc (test_serving_limits), at most ~112 bytes a value, 160 an object,
    56 a list, plus 3x the text for long strings (base64 and its bytes)."""
    return (3 * len(body) + 112 * (body.count(b",") + 1) + 160 * body.count(b"{")
            + 56 * body.count(b"["))


class BodyBudget:
    """Bytes of request bodies in memory, shared by all requests (event-loop thread only)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0


class Charge:
    """The budget bytes one request holds; released when the request ends."""

    def __init__(self, budget: BodyBudget):
        self.budget = budget
        self.bytes = 0

    def take(self, size: int) -> None:
        """Charges ``size`` bytes: RequestTooLarge when this request alone would exceed the
        budget, Unavailable when the requests in flight leave no room now."""
        if self.bytes + size > self.budget.limit:
            raise RequestTooLarge(f"Request body of more than {self.budget.limit} bytes exceeds the "
                                  "server's request memory budget")
        if self.budget.used + size > self.budget.limit:
            raise Unavailable("Request bodies in flight use up the server's request memory "
                              "budget; retry later")
        self.budget.used += size
        self.bytes += size

    def release(self) -> None:
        self.budget.used -= self.bytes
        self.bytes = 0


class Connections:
    """Which connections wait (for headers, or idle between requests) since when."""

    def __init__(self, limits: RestLimits):
        self.limits = limits
        self.waiting: dict = {}  # protocol -> monotonic time it started waiting
        self.open: Set = set()

    def shed(self) -> None:
        """Closes the longest-waiting connections beyond ``max_connections``, sparing those
        waiting under a second (a flood of new ones cannot push out a client about to send)."""
        excess = len(self.open) - self.limits.max_connections
        if excess <= 0:
            return
        spare_after = time.monotonic() - _SHED_GRACE_SECONDS
        oldest = sorted((since, id(p), p) for p, since in self.waiting.items()
                        if since < spare_after)
        for _, _, protocol in oldest[:excess]:
            protocol.transport.close()


def protocol_class(connections: Connections):
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
            self._arm()

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
                self._answer_and_close(status)
                raise ValueError("request head too large")

        def _answer_and_close(self, status: bytes) -> None:
            self.transport.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")
            self.transport.close()

        def on_headers_complete(self) -> None:
            self._disarm()
            connections.waiting.pop(self, None)
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._wait()

        def _wait(self) -> None:
            connections.waiting[self] = time.monotonic()
            self._arm()

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(limits.header_timeout, self._late)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _late(self) -> None:
            self._header_timer = None
            if self in connections.waiting and not self.transport.is_closing():
                self._answer_and_close(b"408 Request Timeout")

    return DeadlineProtocol
