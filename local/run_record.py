"""run.json, written atomically: a reader (or a full disk) never sees half of it.

It is written when the run starts, after every task and when the run ends; when the
disk is full the last complete version stays and the run says so on stderr.
"""

import json
import sys
from typing import Any, Dict

from tfx_kfp.runtime.staging import write_file

RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "running", "succeeded", "failed", "interrupted"


def write(path: str, record: Dict[str, Any]) -> bool:
    """Replaces ``path`` with ``record`` as JSON in one rename; False (and a line on stderr) if it could not."""
    try:
        write_file(path, json.dumps(record, indent=1) + "\n")
        return True
    except OSError as e:
        print(f"tfx-kfp: could not update {path} ({e.strerror or e}); it keeps its last complete version",
              file=sys.__stderr__)
        return False


def tasks(records: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """run.json's per-task part: state, seconds, start and end."""
    return {name: {"state": r.state, "seconds": r.seconds, "started": r.started,
                   "ended": r.started + r.seconds if r.started else 0.0}
            for name, r in records.items()}
