"""Sends what a task prints to its log file (placeholder until the run view lands)."""

import contextlib
import os
import sys
from typing import Iterator, Sequence


@contextlib.contextmanager
def capture_task_output(log_path: str, *, user_module_paths: Sequence[str] = ()) -> Iterator[None]:
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
