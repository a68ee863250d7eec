"""An index page of every report of a local (``kfp.local``) pipeline run.

``kfp.local`` writes a run as ``<pipeline root>/<pipeline>-<timestamp>/<task>/``:
each output artifact at ``<task>/<output name>`` (HTML and Markdown reports
are single files) and the task's ``executor_output.json`` with the metadata of
its output artifacts, where ``system.Metrics`` values and the
``system.ClassificationMetrics`` ``confusionMatrix`` live.
"""

import json
import os
import re
import shutil
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from tfx_kfp.reports._html import Html, document, esc, join, num_cell, table, tag
from tfx_kfp.reports.evaluation import confusion_matrix_table, metrics_table
from tfx_kfp.reports.markdown_html import markdown_to_html

EXECUTOR_OUTPUT = "executor_output.json"
INDEX_FILE = "index.html"

HTML = "html"
MARKDOWN = "markdown"
METRICS = "metrics"
CLASSIFICATION_METRICS = "classification_metrics"
ARTIFACT = "artifact"

_KIND_ORDER = {HTML: 0, MARKDOWN: 0, METRICS: 1, CLASSIFICATION_METRICS: 2, ARTIFACT: 3}
# tfx_kfp.local's run folders (<pipeline>-YYYYmmdd-HHMMSS-ffffff), and kfp.local's (…-YYYY-mm-dd-HH-MM-SS-ffffff).
_RUN_NAME = re.compile(r"^(?P<pipeline>.+)-(?P<stamp>\d{8}-\d{6}-\d+|\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d+)$")
_SNIFF_BYTES = 4096
_CONFIDENCE_ROWS_SHOWN = 20

_CSS = """
.task { margin-bottom: 28px; }
.report-md { border-left: 4px solid #d0d7de; padding: 2px 0 2px 14px; margin: 8px 0; }
.report-md h3 { font-size: 16px; }
.report-md h4 { font-size: 14px; }
ol.outputs { padding-left: 20px; }
code { background: #f3f5f7; padding: 0 3px; border-radius: 3px; }
"""


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
      path: the task directory.
      finished: whether the task wrote ``executor_output.json``.
      outputs: the task's outputs, reports first.
    """

    name: str
    path: Path
    finished: bool
    outputs: List[TaskOutput]


def _is_run(directory: Path) -> bool:
    return any(directory.glob(f"*/{EXECUTOR_OUTPUT}"))


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


def list_runs(root: Union[str, Path]) -> List[Path]:
    """Runs directly under a pipeline root, oldest first."""
    directory = Path(root)
    runs = [child for child in directory.iterdir() if child.is_dir() and _is_run(child)]
    return sorted(runs, key=lambda run: (run.stat().st_mtime, run.name))


def _is_number(value: Any) -> bool:
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
    if numeric and all(_is_number(v) for v in numeric.values()) and (not path.exists() or "metrics" in name):
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


def _finish_time(task_dir: Path) -> float:
    executor_output = task_dir / EXECUTOR_OUTPUT
    if executor_output.is_file():
        return executor_output.stat().st_mtime
    times = [p.stat().st_mtime for p in task_dir.iterdir()] or [task_dir.stat().st_mtime]
    return max(times)


def scan_run(run_dir: Union[str, Path]) -> List[Task]:
    """Reads the tasks of a run, in run order (by when each task finished).

    Args:
      run_dir: the run directory.

    Returns:
      The tasks; unfinished ones (no ``executor_output.json``) last.
    """
    run = Path(run_dir)
    task_dirs = [child for child in run.iterdir() if child.is_dir()]
    ordered = sorted(task_dirs, key=lambda d: (not (d / EXECUTOR_OUTPUT).is_file(), _finish_time(d), d.name))
    return [_read_task(d) for d in ordered]


def _href(target: Path, index_dir: Path) -> str:
    return urllib.parse.quote(os.path.relpath(target, index_dir).replace(os.sep, "/"))


def _read_text(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _confusion_matrix(metadata: Dict[str, Any]) -> Html:
    parts = []
    matrix = metadata.get("confusionMatrix")
    if isinstance(matrix, dict):
        labels = [str(spec.get("displayName", i)) for i, spec in enumerate(matrix.get("annotationSpecs") or [])]
        rows = [list(row.get("row") or []) for row in matrix.get("rows") or []]
        parts.append(confusion_matrix_table(labels, rows))
    confidence = metadata.get("confidenceMetrics")
    if isinstance(confidence, list) and confidence:
        columns: List[str] = []
        for point in confidence:
            columns.extend(k for k in point if k not in columns)
        rows = [[num_cell(p.get(c)) for c in columns] for p in confidence[:_CONFIDENCE_ROWS_SHOWN]]
        caption = f"Confidence metrics ({len(confidence)} points" + (
            f", first {_CONFIDENCE_ROWS_SHOWN} shown)" if len(confidence) > _CONFIDENCE_ROWS_SHOWN else ")"
        )
        parts.append(table(columns, rows, caption=caption, row_headers=False))
    return join(parts)


def viewable_copy(index_path: Union[str, Path], task: Task, output: TaskOutput) -> Path:
    """Where the index keeps a ``.html`` copy of an HTML report.

    ``kfp.local`` writes HTML artifacts without a file extension, which a
    browser opens as plain text; the copy opens as a page.
    """
    index = Path(index_path)
    return index.parent / f"{index.stem}_files" / task.name / f"{output.name}.html"


def _output_html(task: Task, output: TaskOutput, index_path: Path) -> Html:
    index_dir = index_path.parent
    link = tag("a", output.name, href=_href(output.path, index_dir))
    if output.kind == HTML:
        view = viewable_copy(index_path, task, output)
        return Html(
            tag("h3", output.name)
            + tag("p", Html(
                "HTML report: " + tag("a", f"open {output.name}", href=_href(view, index_dir), class_="report-link")
                + " (" + tag("a", "artifact file", href=_href(output.path, index_dir)) + ", "
                + esc(_size_text(output.path)) + ")."))
        )
    if output.kind == MARKDOWN:
        text = _read_text(output.path) or ""
        return Html(
            tag("h3", output.name)
            + tag("p", Html("Markdown report (shown below; " + tag("a", "raw file", href=_href(output.path, index_dir))
                            + ")."), class_="muted small")
            + tag("div", markdown_to_html(text, heading_offset=2), class_="report-md")
        )
    if output.kind == METRICS:
        values = {k: v for k, v in output.metadata.items() if _is_number(v)}
        return Html(tag("h3", output.name) + metrics_table(values, f"Metrics: {output.name}"))
    if output.kind == CLASSIFICATION_METRICS:
        return Html(tag("h3", output.name) + _confusion_matrix(output.metadata))
    return link


def _size_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return "missing"
    return f"{size / 1024:.0f} KiB" if size >= 1024 else f"{size} bytes"


def _status(task: Task) -> str:
    return "finished" if task.finished else "no executor output (failed or unfinished)"


def _reports_summary(task: Task) -> str:
    shown = [o.name for o in task.outputs if o.kind != ARTIFACT]
    return ", ".join(shown) if shown else "—"


def render_run_index(run_dir: Union[str, Path], tasks: Sequence[Task], index_path: Union[str, Path]) -> str:
    """Renders the index page of a run.

    Args:
      run_dir: the run directory.
      tasks: from :func:`scan_run`, in run order.
      index_path: where the page will be written; links are relative to it.

    Returns:
      A self-contained HTML page linking every report, with Markdown reports,
      Metrics and ClassificationMetrics shown inline. HTML reports are linked
      through their :func:`viewable_copy`, which :func:`write_run_index` writes.
    """
    run = Path(run_dir)
    index = Path(index_path).resolve()
    match = _RUN_NAME.match(run.name)
    pipeline, stamp = (match.group("pipeline"), match.group("stamp")) if match else (run.name, None)
    intro = f"Local run {run.name}" + (f" of pipeline {pipeline}, started {stamp}" if stamp else "")
    body: List[object] = [
        tag("h1", f"Pipeline run: {pipeline}"),
        tag("p", f"{intro}. {len(tasks)} task{'s' if len(tasks) != 1 else ''} in run order; each task shows "
                 "the outputs the Kubeflow Pipelines UI would show."),
    ]
    overview = [
        [str(i), Html(tag("a", task.name, href=f"#task-{i}")), _status(task), _reports_summary(task)]
        for i, task in enumerate(tasks, start=1)
    ]
    body.append(table(["#", "Task", "Status", "Visual outputs"], overview, caption="Tasks"))
    for i, task in enumerate(tasks, start=1):
        visual = [o for o in task.outputs if o.kind != ARTIFACT]
        other = [o for o in task.outputs if o.kind == ARTIFACT]
        section: List[object] = [tag("h2", f"{i}. {task.name}", id=f"task-{i}")]
        if not task.finished:
            section.append(tag("p", "This task wrote no executor output: it failed or did not finish.",
                               class_="status warn"))
        section.extend(_output_html(task, o, index) for o in visual)
        if not visual:
            section.append(tag("p", "No visual outputs.", class_="muted"))
        if other:
            links = Html(", ".join(tag("a", o.name, href=_href(o.path, index.parent)) for o in other))
            section.append(tag("p", Html("Other outputs: " + links), class_="small"))
        body.append(Html('<section class="task">' + join(section) + "</section>"))
    return document(f"Run {run.name}", join(body), css=_CSS)


def write_run_index(run_dir: Union[str, Path], output: Optional[Union[str, Path]] = None) -> Path:
    """Scans a run and writes its index page.

    Args:
      run_dir: a run directory or a pipeline root (its newest run is used).
      output: the index file; defaults to ``index.html`` in the run directory.

    Returns:
      The path of the written index; ``.html`` copies of the HTML reports go
      into ``<index name>_files/`` beside it.
    """
    run = resolve_run_dir(run_dir)
    index_path = Path(output) if output else run / INDEX_FILE
    tasks = scan_run(run)
    page = render_run_index(run, tasks, index_path)
    index_path.parent.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        for report in (o for o in task.outputs if o.kind == HTML):
            copy = viewable_copy(index_path, task, report)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(report.path, copy)
    index_path.write_text(page, encoding="utf-8")
    return index_path
