"""Loading one version within a time limit: the load runs in its own thread, the caller waits.

TF Serving has no load time limit; a SavedModel whose init op blocks would hold its version
in LOADING forever (and an InfraValidator waiting for it). A load that outlives the limit is
abandoned: its thread goes on, and the version it may still produce is closed, never served.
"""

import threading
import time
from typing import Callable, Dict, Optional, Tuple

from tfx_kfp.serving.models.servable import LoadedVersion, as_serving_error
from tfx_kfp.serving.protocol.errors import DeadlineExceeded, ServingError

__all__ = ["load_within_limit"]


def load_within_limit(load: Callable[[], LoadedVersion], what: str, timeout: float,
                      stop: threading.Event
                      ) -> Tuple[Optional[LoadedVersion], Optional[ServingError]]:
    """Runs ``load()`` in a thread, waiting at most ``timeout`` s (<= 0: no limit) or until
    ``stop`` is set; returns (version, None) or (None, failure: DEADLINE_EXCEEDED if late)."""
    outcome: Dict[str, object] = {}
    decided = threading.Lock()  # the loader and the waiter agree on who keeps the version
    done = threading.Event()

    def run() -> None:
        version = failure = None
        try:
            version = load()
        except Exception as error:  # noqa: BLE001 - any failure is a load error
            failure = as_serving_error(error)
        with decided:
            if version is not None and outcome.get("abandoned"):
                version.close()  # finished after its time ran out: nobody serves it
            outcome.update(version=version, failure=failure)
            done.set()

    threading.Thread(target=run, name=f"load {what}", daemon=True).start()
    deadline = time.monotonic() + timeout if timeout > 0 else None
    while not done.wait(0.2):
        if stop.is_set() or deadline is not None and time.monotonic() > deadline:
            with decided:
                if done.is_set():
                    break
                outcome["abandoned"] = True
            return None, DeadlineExceeded(
                f"{what} did not load within {timeout:g} s (the load time limit, "
                "--model_load_timeout_seconds); the load was abandoned")
    return outcome["version"], outcome["failure"]
