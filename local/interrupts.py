"""SIGTERM and SIGINT end a local run cleanly: the running task stops, its staging is removed, run.json says so.

While a run executes, both signals raise :class:`RunInterrupted` in the main thread. It
unwinds the running task like Ctrl-C does (a subprocess or Docker task is killed by its
runner on the way out, an in-process task's staging folders are removed by
``runtime.staging``), and ``run_compiled`` then removes any staging a killed child left,
records the run as interrupted and raises it again. Tasks that finished before were
stored in the cache, so the same command resumes after them.
"""

import contextlib
import fnmatch
import os
import shutil
import signal
import threading
from typing import Iterator, List

from tfx_kfp.runtime import staging

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class RunInterrupted(KeyboardInterrupt):
    """The run was ended by a signal; ``signal_name`` says which (``SIGTERM``, ``SIGINT``)."""

    def __init__(self, signal_name: str):
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.run_dir = ""  # the interrupted run's folder (run.json there says "interrupted")

    @property
    def exit_status(self) -> int:
        """The shell's status for a process ended by this signal (128 + its number)."""
        return 128 + int(getattr(signal, self.signal_name, signal.SIGINT))


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Inside, SIGTERM and SIGINT raise RunInterrupted (main thread only: signals are delivered there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise RunInterrupted(signal.Signals(signum).name)

    previous = {number: signal.signal(number, interrupt) for number in SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def remove_staging(run_dir: str) -> List[str]:
    """Removes every staging folder (and its lease) under ``run_dir``; returns their paths.

    Called once the run's task processes are stopped: the run folder is this run's own, so
    whatever staging is left in it has no writer any more.
    """
    removed = []
    for folder, subfolders, files in os.walk(run_dir):
        for name in list(subfolders) + files:
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in staging.STAGING_PATTERNS):
                path = os.path.join(folder, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(path)
                removed.append(path)
        subfolders[:] = [name for name in subfolders if os.path.join(folder, name) not in removed]
    return removed
