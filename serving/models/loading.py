"""Loading one version within a time limit (TF Serving has none: a blocking init op would hold
a version in LOADING forever). A late load is abandoned; a version it still makes is closed.
"""

import threading
import time
from concurrent.futures import Future, wait
from typing import Callable, Optional, Tuple

from tfx_kfp.serving.models.servable import LoadedVersion, as_serving_error
from tfx_kfp.serving.protocol.errors import DeadlineExceeded, ServingError

__all__ = ["load_within_limit"]


def load_within_limit(load: Callable[[], LoadedVersion], what: str, timeout: float,
                      stop: threading.Event
                      ) -> Tuple[Optional[LoadedVersion], Optional[ServingError]]:
    """Runs ``load()`` in a thread, waiting at most ``timeout`` s (<= 0: no limit) or until
    ``stop`` is set; returns (version, None) or (None, failure: DEADLINE_EXCEEDED if late)."""
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
