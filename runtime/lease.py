"""Crash-surviving ownership markers: an exclusive-create file that proves its owner is alive.

A lease is a small JSON file created with ``O_CREAT | O_EXCL`` (so exactly one process holds
it) that names its owner (host, boot, pid namespace, pid). While held, a background thread
touches it every ``HEARTBEAT_S`` seconds. A lease is *stale* once its owner is provably gone:
its heartbeat is older than ``STALE_AFTER_S``, or its owner ran on this very machine and pid
namespace and that pid no longer exists (a SIGKILLed task). Nothing else ever removes a live one.

Hand-written because ``fcntl.flock`` is not honoured by every volume a model store is mounted
from (object-store FUSE mounts), while exclusive create and mtime are.
"""

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from typing import Iterator, Optional

HEARTBEAT_S = 5.0
STALE_AFTER_S = 60.0


def _read_first_line(path: str) -> str:
    try:
        with open(path) as f:
            return f.readline().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def owner_identity() -> dict:
    """Who we are: enough to tell whether a pid in a marker is a process we can check."""
    return {
        "host": socket.gethostname(),
        "boot_id": _read_first_line("/proc/sys/kernel/random/boot_id"),
        "pid_namespace": _pid_namespace(),
        "pid": os.getpid(),
    }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def read_owner(path: str) -> Optional[dict]:
    """The owner recorded in a lease, or None if it is missing or unreadable (e.g. cut short by a kill)."""
    try:
        with open(path) as f:
            owner = json.load(f)
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def is_stale(path: str, stale_after: float = STALE_AFTER_S) -> bool:
    """True when the lease's owner is provably gone (see the module docstring); False if none exists."""
    try:
        age = time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        return False
    if age > stale_after:
        return True
    owner = read_owner(path)
    if owner is None:
        return False  # being written right now, or cut short: the heartbeat age decides
    here = owner_identity()
    same_machine = all(owner.get(key) == here[key] for key in ("host", "boot_id", "pid_namespace"))
    return same_machine and isinstance(owner.get("pid"), int) and not _pid_alive(owner["pid"])


class Lease:
    """A held lease; ``release()`` (or leaving ``held()``) removes it."""

    def __init__(self, path: str, token: str):
        self.path = path
        self.token = token
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, name=f"lease {path}", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def release(self) -> None:
        self._stop.set()
        self._heartbeat.join()
        owner = read_owner(self.path)
        if owner is not None and owner.get("token") == self.token:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)


def try_acquire(path: str) -> Optional[Lease]:
    """Creates the lease file exclusively; None if someone else holds it."""
    token = uuid.uuid4().hex
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None
    with os.fdopen(fd, "w") as f:
        json.dump({**owner_identity(), "token": token, "created": time.time()}, f)
    return Lease(path, token)


def break_if_stale(path: str, stale_after: float = STALE_AFTER_S) -> bool:
    """Removes the lease at ``path`` if it is stale; returns whether it did.

    Breakers take turns through a second exclusive marker, and re-check under it, so two
    processes that both saw the same stale lease never remove a fresh one created meanwhile.
    """
    if not is_stale(path, stale_after):
        return False
    breaker = f"{path}.break"
    turn = try_acquire(breaker)
    if turn is None:
        _clear_dead_turn(breaker)
        return False
    try:
        if not is_stale(path, stale_after):
            return False
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        return True
    finally:
        turn.release()


def _clear_dead_turn(breaker: str) -> None:
    """A breaker holds its turn for microseconds; a turn left behind by a kill goes after a short bound."""
    if is_stale(breaker, HEARTBEAT_S * 2):
        with contextlib.suppress(FileNotFoundError):
            os.remove(breaker)


def acquire(path: str, *, wait_s: float, poll_s: float = 0.2, stale_after: float = STALE_AFTER_S) -> Optional[Lease]:
    """Waits up to ``wait_s`` for the lease, breaking it if its owner is gone; None on timeout."""
    deadline = time.monotonic() + wait_s
    while True:
        lease = try_acquire(path)
        if lease is not None:
            return lease
        if break_if_stale(path, stale_after):
            continue
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll_s)


@contextlib.contextmanager
def held(path: str, *, wait_s: float, stale_after: float = STALE_AFTER_S) -> Iterator[Optional[Lease]]:
    """``acquire`` as a context manager; yields None on timeout (the caller decides what that means)."""
    lease = acquire(path, wait_s=wait_s, stale_after=stale_after)
    try:
        yield lease
    finally:
        if lease is not None:
            lease.release()
