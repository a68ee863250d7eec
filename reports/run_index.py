"""An index page of every report of a local pipeline run (the runs as ``run_scan`` reads them)."""

import os
import shutil
import urllib.parse
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from tfx_kfp.reports._html import Html, document, esc, join, num_cell, table, tag
from tfx_kfp.reports.evaluation import confusion_matrix_table, metrics_table
from tfx_kfp.reports.markdown_html import markdown_to_html
from tfx_kfp.reports import run_states
from tfx_kfp.reports.run_scan import (ARTIFACT, CLASSIFICATION_METRICS, HTML, LOGS_FOLDER, MARKDOWN, METRICS, Task,
                                      TaskOutput, is_number, pipeline_and_stamp, resolve_run_dir, scan_run)

INDEX_FILE = "index.html"
_CONFIDENCE_ROWS_SHOWN = 20

_CSS = """
.task { margin-bottom: 28px; }
.report-md { border-left: 4px solid #d0d7de; padding: 2px 0 2px 14px; margin: 8px 0; }
.report-md h3 { font-size: 16px; }
.report-md h4 { font-size: 14px; }
ol.outputs { padding-left: 20px; }
code { background: #f3f5f7; padding: 0 3px; border-radius: 3px; }
"""


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
        values = {k: v for k, v in output.metadata.items() if is_number(v)}
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


def _state_html(task: Task, run: Path, index_dir: Path) -> Html:
    """The task's state in words, with why it was skipped, whose outputs a cached task reuses, or its log."""
    seconds = f" ({task.seconds:.0f} s)" if task.seconds and task.state in (run_states.DONE, run_states.FAILED) else ""
    if task.state == run_states.SKIPPED:
        return Html(esc(f"skipped: {task.reason}"))
    if task.state == run_states.CACHED:
        if task.producing_run is None:
            return Html("cached (output parameters only: no artifact to trace the producing run by)")
        target = task.producing_run / INDEX_FILE
        target = target if target.is_file() else task.producing_run
        return Html("cached: outputs of run " + tag("a", task.producing_run.name, href=_href(target, index_dir)))
    log = run / LOGS_FOLDER / f"{task.name}.log"
    if task.state == run_states.FAILED and log.is_file():
        return Html(esc(f"failed{seconds}: ") + tag("a", "log", href=_href(log, index_dir)))
    return Html(esc(task.state + seconds))


def _outcome(run: Path, tasks: Sequence[Task]) -> Html:
    if (run / run_states.SPEC_FILE).is_file():
        states = [run_states.TaskState(t.name, t.state, reason=t.reason) for t in tasks]
        kind, text = run_states.outcome(states, (run / run_states.RUN_RECORD).is_file())
    else:
        unfinished = [t.name for t in tasks if not t.finished]
        kind, text = (("warn", f"{len(unfinished)} task(s) wrote no executor output: {', '.join(unfinished)}.")
                      if unfinished else ("good", f"All {len(tasks)} tasks finished."))
    return tag("p", Html(tag("strong", "Outcome: ") + esc(text)), class_=f"status {kind}", role="status")


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
    pipeline, stamp = pipeline_and_stamp(run)
    intro = f"Local run {run.name}" + (f" of pipeline {pipeline}, started {stamp}" if stamp else "")
    body: List[object] = [
        tag("h1", f"Pipeline run: {pipeline}"),
        _outcome(run, tasks),
        tag("p", f"{intro}. {len(tasks)} task{'s' if len(tasks) != 1 else ''}; each task shows "
                 "the outputs the Kubeflow Pipelines UI would show."),
    ]
    overview = [
        [str(i), Html(tag("a", task.name, href=f"#task-{i}")), _state_html(task, run, index.parent),
         _reports_summary(task)]
        for i, task in enumerate(tasks, start=1)
    ]
    body.append(table(["#", "Task", "State", "Visual outputs"], overview, caption="Tasks"))
    for i, task in enumerate(tasks, start=1):
        visual = [o for o in task.outputs if o.kind != ARTIFACT]
        other = [o for o in task.outputs if o.kind == ARTIFACT]
        section: List[object] = [tag("h2", f"{i}. {task.name}", id=f"task-{i}"),
                                 tag("p", Html("State: " + _state_html(task, run, index.parent)), class_="small")]
        if not task.finished and task.state != run_states.SKIPPED:
            section.append(tag("p", "This task wrote no executor output: it failed or did not finish.",
                               class_="status warn"))
        section.extend(_output_html(task, o, index) for o in visual)
        if not visual and task.state != run_states.SKIPPED:
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
