"""Request batching with TF Serving's ``BatchingParameters`` (``batching_session.cc``, 2.16.1).

Concurrent runs of one version with the same feeds and fetches queue; a batch thread takes
them until ``max_batch_size`` rows or ``batch_timeout_micros``, concatenates inputs on dim 0,
pads to the next ``allowed_batch_sizes`` (repeating the first row), runs once and splits the
outputs by rows. No library does this for a TF1 session.
"""

import os
import threading
import time
from dataclasses import dataclass
from concurrent.futures import Future
from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from tfx_kfp.serving.protocol.errors import InvalidArgument, Unavailable

__all__ = ["BatchingOptions", "VersionBatches", "batching_options_from_proto"]


@dataclass
class BatchingOptions:
    """TF Serving's ``BatchingParameters`` (its defaults)."""

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 100
    num_batch_threads: int = os.cpu_count() or 1
    allowed_batch_sizes: Tuple[int, ...] = ()

    def __post_init__(self):
        sizes = list(self.allowed_batch_sizes)
        if sizes and (sizes != sorted(set(sizes)) or sizes[-1] != self.max_batch_size):
            # batching_session.cc's check of allowed_batch_sizes.
            raise InvalidArgument("allowed_batch_sizes entries must be monotonically increasing, "
                                  "and the last entry must equal max_batch_size")
        if self.max_batch_size < 1 or self.num_batch_threads < 1:
            raise InvalidArgument("max_batch_size and num_batch_threads must be positive")


def batching_options_from_proto(proto) -> BatchingOptions:
    """Converts a parsed ``BatchingParameters`` message (unset fields keep defaults)."""
    values = {name: getattr(proto, name).value for name in (
        "max_batch_size", "batch_timeout_micros", "max_enqueued_batches", "num_batch_threads")
        if proto.HasField(name)}
    return BatchingOptions(**values, allowed_batch_sizes=tuple(proto.allowed_batch_sizes))


class _Task(NamedTuple):
    feeds: Sequence[Tuple[str, np.ndarray]]
    size: int
    outputs: Future  # this task's rows of each fetch, or the batch's error


class _Queue:
    """One version's queue for one (feeds, fetches, timeout) combination."""

    def __init__(self, options: BatchingOptions, run):
        self._options = options
        self._run = run
        self._tasks: List[_Task] = []
        self._cv = threading.Condition()
        self._closed = False
        for index in range(options.num_batch_threads):
            threading.Thread(target=self._loop, daemon=True,
                             name=f"tfx-kfp-batch-{index}").start()

    def submit(self, feeds, size: int) -> List[np.ndarray]:
        options = self._options
        if size > options.max_batch_size:
            raise InvalidArgument(f"Task size {size} is larger than maximum input batch size "
                                  f"{options.max_batch_size}")
        task = _Task(feeds, size, Future())
        with self._cv:
            if self._closed:
                raise Unavailable("The model version is unloading")
            if len(self._tasks) >= options.max_enqueued_batches * options.max_batch_size:
                raise Unavailable("The batch scheduling queue to which this task was submitted "
                                  "is full")
            self._tasks.append(task)
            self._cv.notify()
        return task.outputs.result()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def _take(self) -> List[_Task]:
        timeout = self._options.batch_timeout_micros / 1e6
        limit = self._options.max_batch_size
        with self._cv:
            while not self._tasks and not self._closed:
                self._cv.wait()
            if not self._tasks:
                return []
            deadline = time.monotonic() + timeout
            while (sum(t.size for t in self._tasks) < limit and not self._closed
                   and time.monotonic() < deadline):
                self._cv.wait(deadline - time.monotonic())
            batch, rows = [], 0
            while self._tasks and rows + self._tasks[0].size <= limit:
                rows += self._tasks[0].size
                batch.append(self._tasks.pop(0))
            return batch

    def _loop(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                return
            try:
                self._run_batch(batch)
            except BaseException as error:  # noqa: BLE001 - handed to every waiting request
                for task in batch:
                    task.outputs.set_exception(error)

    def _run_batch(self, batch: Sequence[_Task]) -> None:
        rows = sum(t.size for t in batch)
        padded = next((s for s in self._options.allowed_batch_sizes if s >= rows), rows)
        feeds = []
        for index, (name, _) in enumerate(batch[0].feeds):
            parts = [task.feeds[index][1] for task in batch]
            if padded > rows:
                parts.append(np.repeat(parts[0][:1], padded - rows, axis=0))
            feeds.append((name, np.concatenate(parts) if len(parts) > 1 else parts[0]))
        outputs = self._run(feeds)
        for output in outputs:
            if output.ndim == 0 or output.shape[0] != padded:
                raise InvalidArgument(
                    "Batched output tensor has 0th dimension "
                    f"{output.shape[0] if output.ndim else 0} which doesn't match batch size "
                    f"{padded}")
        start = 0
        for task in batch:
            task.outputs.set_result([output[start:start + task.size] for output in outputs])
            start += task.size


class VersionBatches:
    """A loaded version's batch queues, one per feed/fetch/timeout combination."""

    def __init__(self, options: BatchingOptions, version):
        self._options = options
        self._version = version
        self._queues = {}
        self._lock = threading.Lock()

    def run(self, feeds, fetch_names: Sequence[str], timeout_ms: Optional[int]):
        """Runs ``feeds`` as part of a batch; returns this request's rows of each fetch."""
        sizes = {value.shape[0] if value.ndim else -1 for _, value in feeds}
        if len(sizes) != 1 or -1 in sizes:
            raise InvalidArgument("Batching session Run() input tensors must have equal "
                                  "0th-dimension size")
        key = (tuple(name for name, _ in feeds), tuple(fetch_names), timeout_ms)
        with self._lock:
            queue = self._queues.get(key)
            if queue is None:
                def run(batch_feeds, _key=key):
                    return self._version.run_unbatched(batch_feeds, _key[1], _key[2])
                queue = self._queues[key] = _Queue(self._options, run)
        return queue.submit(feeds, sizes.pop())

    def close(self) -> None:
        with self._lock:
            for queue in self._queues.values():
                queue.close()
