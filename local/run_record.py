"""run.json, written atomically: a reader (or a full disk) never sees half of it.

It is written when the run starts, after every task and when the run ends. A run also
keeps a small reserve file beside it: when the disk fills up, the reserve is given back
so that run.json can still say how the run ended; if even that fails, the last complete
version stays and the run says so on stderr.
"""

import contextlib
import errno
import json
import os
import sys
from typing import Any, Dict

from tfx_kfp.runtime.staging import write_file

RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "running", "succeeded", "failed", "interrupted"


RESERVE_SUFFIX = ".reserve"
RESERVE_BYTES = 256 * 1024


def reserve(path: str) -> None:
    """Sets aside RESERVE_BYTES beside ``path`` for its last writes on a full disk (best effort)."""
    with contextlib.suppress(OSError), open(path + RESERVE_SUFFIX, "wb") as f:
        f.write(b"\0" * RESERVE_BYTES)


def release(path: str) -> bool:
    """Removes the reserve beside ``path``; whether there was one."""
    try:
        os.remove(path + RESERVE_SUFFIX)
        return True
    except FileNotFoundError:
        return False


def write(path: str, record: Dict[str, Any]) -> bool:
    """Replaces ``path`` with ``record`` as JSON in one rename; False (and a line on stderr) if it could not."""
    text = json.dumps(record, indent=1) + "\n"
    try:
        write_file(path, text)
        return True
    except OSError as e:
        if e.errno == errno.ENOSPC and release(path):
            return write(path, record)
        print(f"tfx-kfp: could not update {path} ({e.strerror or e}); it keeps its last complete version",
              file=sys.__stderr__)
        return False


def tasks(records: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """run.json's per-task part: state, seconds, start and end, and what the run index needs
    (reports/run_states.py): gate values, a cached task's producing run, why a task was skipped."""
    return {name: {"state": r.state, "seconds": r.seconds, "started": r.started,
                   "ended": r.started + r.seconds if r.started else 0.0,
                   "parameters": r.parameters, "outputs": {key: ref.uri for key, ref in r.artifacts.items()},
                   **({"skipped_because": r.skip_reason} if r.skip_reason else {})}
            for name, r in records.items()}
