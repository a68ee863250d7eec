"""One loaded SavedModel version, as TF Serving loads it: the MetaGraphDef with the serving
tags in its own TF1 session (TF2 SavedModels included); signatures run by feeding and fetching
the tensor names their SignatureDefs list. Requests hold the version (``acquire``/``release``),
so unloading waits for them; a load may be given a time limit (``load_within_limit``).
"""

import logging
import threading
import time
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from tfx_kfp.serving.protocol.errors import (
    DataLoss, DeadlineExceeded, NotFound, ServingError, error_for_code, error_for_exception,
)

__all__ = ["LoadedVersion", "SessionOptions", "as_serving_error", "load_version",
           "load_within_limit"]

log = logging.getLogger(__name__)

_CALLABLE_CACHE_LIMIT = 64
# Session run timeouts are rounded up to one of these, so callables can be cached.
_TIMEOUT_STEPS_MS = (1000, 2000, 5000, 10000, 30000, 60000, 300000, 3600000)


@dataclass
class SessionOptions:
    """Session settings: MetaGraphDef ``tags``; ``inter_op_threads`` -1 runs a request's ops in
    the calling thread (the least per-request overhead); ``intra_op_threads`` 0: TF chooses."""

    tags: Sequence[str] = ("serve",)
    inter_op_threads: int = -1
    intra_op_threads: int = 0


def _read_meta_graph(path: str, tags: Sequence[str]):
    """Reads the MetaGraphDef for ``tags``, failing with TF's own messages."""
    from tensorflow.core.protobuf import saved_model_pb2
    from google.protobuf import message as _message, text_format

    import tensorflow as tf

    pb_path = path.rstrip("/") + "/saved_model.pb"
    pbtxt_path = path.rstrip("/") + "/saved_model.pbtxt"
    saved_model = saved_model_pb2.SavedModel()
    if tf.io.gfile.exists(pb_path):
        try:
            saved_model.ParseFromString(tf.io.gfile.GFile(pb_path, "rb").read())
        except (_message.DecodeError, tf.errors.OpError):
            raise DataLoss(f"Can't parse {pb_path} as binary proto") from None
    elif tf.io.gfile.exists(pbtxt_path):
        try:
            text_format.Parse(tf.io.gfile.GFile(pbtxt_path, "rb").read().decode("utf-8"),
                              saved_model)
        except (text_format.ParseError, tf.errors.OpError, UnicodeDecodeError):
            raise DataLoss(f"Can't parse {pbtxt_path} as text proto") from None
    else:
        raise NotFound(
            "Could not find SavedModel .pb or .pbtxt at supplied export directory path: "
            f"{path}. Check that the directory exists and that you have the right "
            "permissions for accessing it.")
    wanted = set(tags)
    for meta_graph in saved_model.meta_graphs:
        if set(meta_graph.meta_info_def.tags) == wanted:
            return meta_graph
    raise NotFound(
        f"Could not find meta graph def matching supplied tags: {{ {' '.join(tags)} }}. "
        "To inspect available tag-sets in the SavedModel, please use the SavedModel CLI: "
        "`saved_model_cli`")


def as_serving_error(error: Exception) -> ServingError:
    """Maps any exception to a ServingError (TF errors keep their status code)."""
    import tensorflow as tf

    if isinstance(error, ServingError):
        return error
    if isinstance(error, UnicodeDecodeError):
        # TensorFlow's message quoted non-UTF-8 input bytes (e.g. ParseExample's "Could
        # not parse example input, value: ..."); the Python binding failed to decode it.
        message = bytes(error.object).decode("utf-8", "backslashreplace")
        return error_for_code("INVALID_ARGUMENT", message)
    if isinstance(error, tf.errors.OpError):
        return error_for_code(error.error_code, error.message)
    return error_for_exception(error)


class LoadedVersion:
    """A SavedModel version loaded into its own TensorFlow session."""

    def __init__(self, name: str, version: int, path: str, session, meta_graph_def):
        self.name = name
        self.version = version
        self.path = path
        self.meta_graph_def = meta_graph_def
        self.signature_defs = meta_graph_def.signature_def
        self._session = session
        self._callables: Dict[Tuple[Tuple[str, ...], Tuple[str, ...]], object] = {}
        self._callables_lock = threading.Lock()
        self._in_flight = 0
        self._in_flight_cv = threading.Condition()
        self._closed = False
        self.batch_queue = None  # a batching.VersionBatches when batching is on

    def acquire(self) -> None:
        """Marks one request as using this version."""
        with self._in_flight_cv:
            self._in_flight += 1

    def release(self) -> None:
        """Marks a request using this version as done."""
        with self._in_flight_cv:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._in_flight_cv.notify_all()

    def _callable(self, feed_names: Tuple[str, ...], fetch_names: Tuple[str, ...],
                  timeout_ms: int):
        key = (feed_names, fetch_names, timeout_ms)
        function = self._callables.get(key)
        if function is None:
            with self._callables_lock:
                function = self._callables.get(key)
                if function is None:
                    from tensorflow.core.protobuf import config_pb2

                    if len(self._callables) >= _CALLABLE_CACHE_LIMIT:
                        self._callables.clear()
                    options = config_pb2.CallableOptions(feed=list(feed_names),
                                                         fetch=list(fetch_names))
                    if timeout_ms:
                        options.run_options.timeout_in_ms = timeout_ms
                    # Session::MakeCallable: the leanest way to run a fixed feed/fetch
                    # set, and it reports TensorFlow's own status messages unchanged.
                    function = self._session._make_callable_from_options(options)
                    self._callables[key] = function
        return function

    def run(self, feeds: Sequence[Tuple[str, np.ndarray]], fetch_names: Sequence[str],
            timeout_ms: Optional[int] = None) -> List[np.ndarray]:
        """Runs the session (through the batch queue when batching is on)."""
        if self.batch_queue is not None:
            return self.batch_queue.run(feeds, fetch_names, timeout_ms)
        return self.run_unbatched(feeds, fetch_names, timeout_ms)

    def run_unbatched(self, feeds: Sequence[Tuple[str, np.ndarray]],
                      fetch_names: Sequence[str],
                      timeout_ms: Optional[int] = None) -> List[np.ndarray]:
        """Feeds (tensor name, value) pairs and returns the fetches; TF errors keep their code."""
        bucket = 0
        if timeout_ms:
            bucket = next((step for step in _TIMEOUT_STEPS_MS if step >= timeout_ms),
                          _TIMEOUT_STEPS_MS[-1])
        function = self._callable(tuple(name for name, _ in feeds), tuple(fetch_names), bucket)
        try:
            return function(*(value for _, value in feeds))
        except Exception as error:  # noqa: BLE001 - every TF failure maps to a status
            raise as_serving_error(error) from None

    def close(self, wait_timeout: Optional[float] = None) -> None:
        """Waits for requests in flight to finish, then closes the session."""
        with self._in_flight_cv:
            self._in_flight_cv.wait_for(lambda: self._in_flight == 0, timeout=wait_timeout)
            if self._closed:
                return
            self._closed = True
        if self.batch_queue is not None:
            self.batch_queue.close()
        self._callables.clear()
        try:
            self._session.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            log.debug("closing the session of %s version %d failed", self.name, self.version,
                      exc_info=True)


def quiet_deprecations():
    """Silences TF's "this TF1 API is deprecated" warnings around the TF1 loader."""
    from tensorflow.python.util import deprecation

    return deprecation.silence()


def load_version(name: str, version: int, path: str, options: SessionOptions) -> LoadedVersion:
    """Loads one version directory into a new session (TF Serving's status when it fails)."""
    import tensorflow as tf

    meta_graph_def = _read_meta_graph(path, options.tags)
    config = tf.compat.v1.ConfigProto(
        inter_op_parallelism_threads=options.inter_op_threads,
        intra_op_parallelism_threads=options.intra_op_threads,
        allow_soft_placement=True,
    )
    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph, config=config)
    try:
        with graph.as_default(), quiet_deprecations():
            loaded = tf.compat.v1.saved_model.loader.load(session, list(options.tags), path)
    except Exception as error:  # noqa: BLE001 - report any load failure as a status
        session.close()
        raise as_serving_error(error) from None
    # The loader's copy has the same signatures; keep the one read from disk
    # byte-for-byte (TF Serving reports it unchanged in metadata).
    del loaded
    return LoadedVersion(name, version, path, session, meta_graph_def)


def load_within_limit(load: Callable[[], LoadedVersion], what: str, timeout: float,
                      stop: threading.Event
                      ) -> Tuple[Optional[LoadedVersion], Optional[ServingError]]:
    """Runs ``load()`` in a thread, waiting at most ``timeout`` s (<= 0: no limit, as TF Serving,
    where a blocking init op holds a version in LOADING forever) or until ``stop`` is set;
    returns (version, None) or (None, failure: DEADLINE_EXCEEDED if late)."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(load())
        except Exception as error:  # noqa: BLE001 - any failure is a load error
            future.set_exception(as_serving_error(error))

    threading.Thread(target=run, name=f"load {what}", daemon=True).start()
    deadline = time.monotonic() + timeout if timeout > 0 else float("inf")
    while not future.done():
        if stop.is_set() or time.monotonic() > deadline:
            # Whenever the load ends (now, if it just did), its version is closed, never served.
            future.add_done_callback(lambda late: late.exception() or late.result().close())
            return None, DeadlineExceeded(
                f"{what} did not load within {timeout:g} s (the load time limit, "
                "--model_load_timeout_seconds); the load was abandoned")
        wait([future], 0.2)
    return (None, future.exception()) if future.exception() else (future.result(), None)
