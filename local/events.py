"""What a local run reports while it runs: one event per task state change."""

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

WAITING, RUNNING, CACHED, SKIPPED, DONE, FAILED = "waiting", "running", "cached", "skipped", "done", "failed"
STATES = (WAITING, RUNNING, CACHED, SKIPPED, DONE, FAILED)
FINAL_STATES = (CACHED, SKIPPED, DONE, FAILED)
INTERRUPTED = "interrupted"  # run.json only: the task running when SIGTERM/SIGINT ended the run


@dataclass(frozen=True)
class TaskEvent:
    """A task entered ``state``.

    Attributes:
        task: The task name in the compiled spec (``example-gen``, ``pusher`` …).
        state: One of STATES.
        seconds: Time the task ran (0 until it finishes; the cached run's time for CACHED).
        outputs: Output artifact name → its metadata (DONE and CACHED).
        parameters: Output parameter name → value (DONE and CACHED).
        log_path: The task's log file (everything TF, Beam, absl and the task print).
        error: The task's failure (FAILED), else None.
    """

    task: str
    state: str
    seconds: float = 0.0
    outputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    log_path: Optional[str] = None
    error: Optional[BaseException] = None


Observer = Callable[[TaskEvent], None]
