"""Why a local run stopped."""

from typing import Optional


class BackendRejection(ValueError):
    """The KFP backend would reject what a task produced (its launcher or ML Metadata)."""


class TaskFailed(RuntimeError):
    """A task failed; the run stops as it would on a cluster.

    Attributes:
        task: The task name.
        log_path: Its log file.
        cause: The exception raised in the task (in-process runs), else None.
    """

    def __init__(self, task: str, message: str, log_path: Optional[str] = None,
                 cause: Optional[BaseException] = None):
        super().__init__(f"task {task!r} failed: {message}" + (f" (log: {log_path})" if log_path else ""))
        self.task = task
        self.log_path = log_path
        self.cause = cause


class UnsupportedSpec(ValueError):
    """The compiled spec uses a KFP feature local runs do not implement."""
