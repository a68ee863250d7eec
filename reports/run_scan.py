"""Finds local pipeline runs and reads what each task wrote.

``tfx_kfp.local`` (and ``kfp.local``) write a run as ``<pipeline root>/<pipeline>-<timestamp>/<task>/``:
each output artifact at ``<task>/<output name>`` (HTML and Markdown reports
are single files) and the task's ``executor_output.json`` with the metadata of
its output artifacts, where ``system.Metrics`` values and the
``system.ClassificationMetrics`` ``confusionMatrix`` live.
"""

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from tfx_kfp.reports import run_states

EXECUTOR_OUTPUT = "executor_output.json"
LOGS_FOLDER = "logs"

HTML = "html"
MARKDOWN = "markdown"
METRICS = "metrics"
CLASSIFICATION_METRICS = "classification_metrics"
ARTIFACT = "artifact"

_KIND_ORDER = {HTML: 0, MARKDOWN: 0, METRICS: 1, CLASSIFICATION_METRICS: 2, ARTIFACT: 3}
# tfx_kfp.local's run folders (<pipeline>-YYYYmmdd-HHMMSS-ffffff), and kfp.local's (…-YYYY-mm-dd-HH-MM-SS-ffffff).
_RUN_NAME = re.compile(r"^(?P<pipeline>.+)-(?P<stamp>\d{8}-\d{6}-\d+|\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d+)$")
_SNIFF_BYTES = 4096


class RunNotFoundError(ValueError):
    """The directory holds no kfp.local run."""


@dataclass
class TaskOutput:
    """One output artifact of a task.

    Attributes:
      name: output name, e.g. ``report`` or ``metrics``.
      path: the artifact's local path (may not exist, e.g. for Metrics).
      kind: one of ``html``, ``markdown``, ``metrics``, ``classification_metrics``, ``artifact``.
      metadata: the artifact metadata from ``executor_output.json``.
    """

    name: str
    path: Path
    kind: str
    metadata: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Task:
    """One task of a local run.

    Attributes:
      name: task name (its directory's name).
      path: the task directory (a cached task's: in the run that produced its outputs).
      finished: whether the task wrote ``executor_output.json``.
      outputs: the task's outputs, reports first.
      state: done, cached, skipped, failed, … as the run recorded it (``run_states``); for a run without
        a record, "done" or "failed or unfinished" from ``finished``.
      reason: why a skipped task was skipped.
      producing_run: the run whose outputs a cached task reuses.
      seconds: how long the task ran (a cached task: the producing run's time).
    """

    name: str
    path: Path
    finished: bool
    outputs: List[TaskOutput]
    state: str = ""
    reason: str = ""
    producing_run: Optional[Path] = None
    seconds: float = 0.0

    def __post_init__(self):
        self.state = self.state or ("done" if self.finished else "failed or unfinished")


def _is_run(directory: Path) -> bool:
    """A run folder: a task's executor output, or a tfx_kfp.local run's record (a run that failed at once)."""
    return (any(directory.glob(f"*/{EXECUTOR_OUTPUT}")) or (directory / run_states.RUN_RECORD).is_file()
            and (directory / run_states.SPEC_FILE).is_file())


def resolve_run_dir(path: Union[str, Path]) -> Path:
    """Finds the run to index.

    Args:
      path: a run directory (``<pipeline>-<timestamp>``) or a pipeline root
        holding runs; for a root, its newest run is used.

    Returns:
      The run directory.

    Raises:
      RunNotFoundError: ``path`` is neither.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise RunNotFoundError(f"{directory} is not a directory")
    if _is_run(directory):
        return directory
    runs = [child for child in directory.iterdir() if child.is_dir() and _is_run(child)]
    if not runs:
        raise RunNotFoundError(
            f"{directory} holds no kfp.local run (no <task>/{EXECUTOR_OUTPUT} in it or in a directory below it)"
        )
    return max(runs, key=lambda run: (run.stat().st_mtime, run.name))


def pipeline_and_stamp(run_dir: Path) -> Tuple[str, Optional[str]]:
    """The pipeline name and start stamp in a run folder's name (the whole name and None if it has none)."""
    match = _RUN_NAME.match(run_dir.name)
    return (match.group("pipeline"), match.group("stamp")) if match else (run_dir.name, None)


def list_runs(root: Union[str, Path]) -> List[Path]:
    """Runs directly under a pipeline root, oldest first."""
    directory = Path(root)
    runs = [child for child in directory.iterdir() if child.is_dir() and _is_run(child)]
    return sorted(runs, key=lambda run: (run.stat().st_mtime, run.name))


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _sniff_file(path: Path) -> Optional[str]:
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        if len(head) < _SNIFF_BYTES:
            return None
        text = head[:-4].decode("utf-8", errors="ignore")
    if "\0" in text:
        return None
    start = text.lstrip().lower()
    if path.suffix.lower() in (".html", ".htm") or start.startswith("<"):
        return HTML
    if path.suffix.lower() == ".md" or path.name == "report" or path.name.endswith("report"):
        return MARKDOWN
    return None


def classify_output(name: str, path: Path, metadata: Dict[str, Any]) -> str:
    """Decides how the index shows an output (``executor_output.json`` has no types)."""
    if "confusionMatrix" in metadata or "confidenceMetrics" in metadata:
        return CLASSIFICATION_METRICS
    numeric = {k: v for k, v in metadata.items() if k != "display_name"}
    if numeric and all(is_number(v) for v in numeric.values()) and (not path.exists() or "metrics" in name):
        return METRICS
    if path.is_file():
        return _sniff_file(path) or ARTIFACT
    return ARTIFACT


def _local_path(uri: str, fallback: Path) -> Path:
    if uri.startswith("file://"):
        return Path(urllib.parse.unquote(uri[len("file://") :]))
    if uri.startswith("/"):
        return Path(uri)
    return fallback


def _read_task(task_dir: Path) -> Task:
    executor_output = task_dir / EXECUTOR_OUTPUT
    outputs: Dict[str, TaskOutput] = {}
    if executor_output.is_file():
        try:
            data = json.loads(executor_output.read_text())
        except (OSError, ValueError):
            data = {}
        for name, entry in (data.get("artifacts") or {}).items():
            for artifact in entry.get("artifacts") or []:
                path = _local_path(artifact.get("uri", ""), task_dir / name)
                if not path.exists() and (task_dir / name).exists():
                    path = task_dir / name  # the run directory was moved after the run
                metadata = artifact.get("metadata") or {}
                outputs[name] = TaskOutput(name, path, classify_output(name, path, metadata), metadata)
    for child in sorted(task_dir.iterdir()):
        if child.name != EXECUTOR_OUTPUT and child.name not in outputs:
            outputs[child.name] = TaskOutput(child.name, child, classify_output(child.name, child, {}))
    ordered = sorted(outputs.values(), key=lambda o: (_KIND_ORDER[o.kind], o.name != "report", o.name))
    return Task(name=task_dir.name, path=task_dir, finished=executor_output.is_file(), outputs=ordered)


def _is_logs_folder(directory: Path) -> bool:
    """``logs/``, where a local run keeps each task's log: not a task."""
    return directory.name == LOGS_FOLDER and all(p.suffix == ".log" for p in directory.iterdir())


def _finish_time(task_dir: Path) -> float:
    executor_output = task_dir / EXECUTOR_OUTPUT
    if executor_output.is_file():
        return executor_output.stat().st_mtime
    times = [p.stat().st_mtime for p in task_dir.iterdir()] or [task_dir.stat().st_mtime]
    return max(times)


def _spec_tasks(run: Path) -> Optional[List[Task]]:
    """One Task per task of the spec a ``tfx_kfp.local`` run executed, with its recorded state."""
    states = run_states.task_states(run)
    if states is None:
        return None
    tasks = []
    for state in states:
        folder = run / state.name
        if state.state == run_states.CACHED and state.producing_run is not None:
            folder = state.producing_run / state.name
        task = _read_task(folder) if folder.is_dir() else Task(state.name, folder, False, [])
        task.name, task.state, task.reason, task.seconds = state.name, state.state, state.reason, state.seconds
        task.producing_run = state.producing_run
        tasks.append(task)
    return tasks


def scan_run(run_dir: Union[str, Path]) -> List[Task]:
    """Reads the tasks of a run.

    A ``tfx_kfp.local`` run (its ``pipeline.yaml`` and ``run.json``): one task per task of the spec, in
    the spec's order, skipped and cached ones included. Otherwise (``kfp.local``): the task folders in
    run order (by when each task finished), unfinished ones (no ``executor_output.json``) last.

    Args:
      run_dir: the run directory.

    Returns:
      The tasks.
    """
    run = Path(run_dir)
    from_spec = _spec_tasks(run)
    if from_spec is not None:
        return from_spec
    task_dirs = [child for child in run.iterdir() if child.is_dir() and not _is_logs_folder(child)]
    ordered = sorted(task_dirs, key=lambda d: (not (d / EXECUTOR_OUTPUT).is_file(), _finish_time(d), d.name))
    return [_read_task(d) for d in ordered]
