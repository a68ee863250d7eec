"""What a person sees while a pipeline runs: one row per stage, live on a terminal, plain lines elsewhere.

``RunView`` is an observer of :class:`~tfx_kfp.local.events.TaskEvent` (local
runs call it for every task state change; ``submit`` builds the same events
from the cluster's task details) and a context manager around the run:

    with RunView(stages, title="penguin", log_dir=run_dir + "/logs") as view:
        runner.run(..., observer=view)
    view.print_line(view.result_line(index_path=...))

On a terminal it draws a ``rich`` Live table (stage, state with a spinner while
running, elapsed time, key result), refreshed in place and small enough for one
screen. Without a terminal (CI, pipes) it prints exactly one line per state
change. When it closes, each failed task is summarised by
:func:`tfx_kfp.local.failures.summarize_failure` and nothing else is printed.
"""

import os
import sys
import threading
import time
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, TextIO

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from tfx_kfp.cli.stage_results import key_result, run_result
from tfx_kfp.local.events import CACHED, DONE, FAILED, FINAL_STATES, RUNNING, SKIPPED, WAITING, TaskEvent
from tfx_kfp.local.failures import summarize_failure

STATE_STYLES = {WAITING: "dim", RUNNING: "cyan", CACHED: "blue", SKIPPED: "yellow", DONE: "green",
                FAILED: "bold red"}
STAGE_WIDTH = 18


def _own_stream(stream: TextIO, fd: int) -> TextIO:
    """A stream on a duplicate of ``fd``, so the view still reaches the terminal while a task
    has fds 1 and 2 pointed at its log (``local.logs.capture_task_output``)."""
    try:
        if stream.fileno() != fd:
            return stream
        return os.fdopen(os.dup(fd), "w", buffering=1, encoding=getattr(stream, "encoding", None) or "utf-8",
                         errors="replace")
    except (AttributeError, OSError, ValueError):  # no real fd behind it (e.g. a test's capture)
        return stream


def _seconds(value: float) -> str:
    if value < 0.1:
        return f"{value * 1000:.0f}ms"
    return f"{value:.1f}s" if value < 60 else f"{int(value // 60)}m{int(value % 60):02d}s"


class RunView:
    """Observer and context manager that shows a run's stages (see the module docstring).

    Args:
        stages: Task names in display order; tasks not listed are appended as they appear.
        title: What runs (e.g. the pipeline name); heads the table and the result line.
        log_dir: The folder of the per-task logs, named once.
        display_names: Task name -> the name shown (e.g. the spec's ``taskInfo.name``).
        live: Draw the live table (default: when the output is a terminal).
        console: The rich Console to draw on (default: one on a duplicate of stdout).
        user_module_paths: The user's module files, to trim failure tracebacks to.
        module_names: The file a user module runs from -> the name to show
            (see ``local.logs.capture_task_output``).
    """

    def __init__(self, stages: Sequence[str] = (), *, title: str = "", log_dir: Optional[str] = None,
                 display_names: Optional[Dict[str, str]] = None, live: Optional[bool] = None,
                 console: Optional[Console] = None, user_module_paths: Iterable[str] = (),
                 module_names: Optional[Mapping[str, str]] = None, clock: Callable[[], float] = time.monotonic):
        self.console = console or Console(file=_own_stream(sys.stdout, 1))
        self.err_console = console or Console(file=_own_stream(sys.stderr, 2), stderr=True)
        self.live = self.console.is_terminal if live is None else live
        self.title = title
        self.log_dir = log_dir
        self.display_names = dict(display_names or {})
        self.user_module_paths = tuple(user_module_paths)
        self.module_names = dict(module_names or {})
        self.clock = clock
        self.events: Dict[str, TaskEvent] = {t: TaskEvent(t, WAITING) for t in stages}
        self._started_at: Dict[str, float] = {}
        self._spinners: Dict[str, Spinner] = {}
        self._lock = threading.Lock()
        self._live: Optional[Live] = None
        self.started = clock()

    @classmethod
    def for_spec(cls, spec: Mapping, **options) -> "RunView":
        """A view of a compiled pipeline's container tasks, upstream first, under their display names.

        Args:
            spec: The PipelineSpec document (``yaml.safe_load`` of the compiled YAML's first document).
            options: As for the constructor.
        """
        from tfx_kfp.cluster.tasks import spec_tasks

        tasks = spec_tasks(spec)
        return cls([t.key for t in tasks], display_names={t.key: t.display_name for t in tasks}, **options)

    # -- observer ------------------------------------------------------------------------------
    def __call__(self, event: TaskEvent) -> None:
        if self.log_dir is None and event.log_path:  # named once, as soon as the run has a folder
            self.log_dir = os.path.dirname(event.log_path)
            if not self.live:
                self._print_header()
        with self._lock:
            previous = self.events.get(event.task)
            if previous is not None and previous.state == event.state:
                self.events[event.task] = event  # same state, newer details: no new line
                return
            self.events[event.task] = event
            if event.state == RUNNING:
                self._started_at[event.task] = self.clock()
                self._spinners[event.task] = Spinner("dots", style="cyan")
        if not self.live and event.state != WAITING:  # every stage starts waiting: no line for that
            self.console.print(self.plain_line(event), markup=False, highlight=False, soft_wrap=True)
        elif self._live is not None:
            self._live.refresh()

    def print_warning(self, text: str) -> None:
        """Shows a warning from the user's code (``capture_task_output(show_user_warning=...)``)."""
        console = self.console if self._live is not None else self.err_console
        console.print(text.rstrip("\n"), markup=False, highlight=False, soft_wrap=True, style="yellow")

    def print_line(self, text: str) -> None:
        """Prints one line below the view (e.g. :meth:`result_line`)."""
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    # -- context manager -----------------------------------------------------------------------
    def __enter__(self) -> "RunView":
        self.started = self.clock()
        if self.live:
            self._live = Live(console=self.console, get_renderable=self.render, refresh_per_second=8,
                              transient=False, redirect_stdout=True, redirect_stderr=True)
            self._live.start()
        elif self.log_dir:  # else with the first event that names the run's log folder
            self._print_header()
        return self

    def _print_header(self) -> None:
        header = " · ".join(p for p in (self.title, f"logs: {self.log_dir}") if p)
        self.console.print(header, markup=False, highlight=False, soft_wrap=True)

    def __exit__(self, *exc_info) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        self.print_failures()

    # -- what is shown ---------------------------------------------------------------------------
    def name(self, task: str) -> str:
        return self.display_names.get(task, task)

    def _elapsed(self, event: TaskEvent) -> Optional[float]:
        if event.state == RUNNING and event.task in self._started_at:
            return self.clock() - self._started_at[event.task]
        if event.state in (DONE, CACHED, FAILED):
            return event.seconds
        return None

    def plain_line(self, event: TaskEvent) -> str:
        """``[  12.3s] transform          done      4.1s  transformed train, eval``"""
        elapsed = self._elapsed(event) if event.state != RUNNING else None
        text = f"[{self.clock() - self.started:7.1f}s] {self.name(event.task):<{STAGE_WIDTH}} {event.state:<8}"
        duration = _seconds(elapsed) if elapsed is not None else ""
        return f"{text} {duration:>6}  {key_result(event, self.events)}".rstrip()

    def render(self) -> Group:
        """The live view: the title, one table row per stage, the log folder."""
        with self._lock:
            events = list(self.events.values())
        table = Table(box=box.SIMPLE_HEAD, expand=False)
        table.add_column("stage", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column("result", overflow="ellipsis", no_wrap=True, max_width=60)
        for event in events:
            elapsed = self._elapsed(event)
            state = Text(event.state, style=STATE_STYLES.get(event.state, ""))
            if event.state == RUNNING and event.task in self._spinners:
                spinner = self._spinners[event.task]
                spinner.update(text=state)
                state = spinner
            table.add_row(self.name(event.task), state, _seconds(elapsed) if elapsed is not None else "",
                          key_result(event, self.events))
        parts = [Text(self.title, style="bold")] if self.title else []
        parts.append(table)
        if self.log_dir:  # outside the table, so a long path wraps at the terminal's width, not the table's
            parts.append(Text(f"logs: {self.log_dir}", style="dim"))
        return Group(*parts)

    def failed(self) -> List[TaskEvent]:
        return [e for e in self.events.values() if e.state == FAILED]

    def print_failures(self) -> int:
        """Prints the summary of each failed task (stage, the error that matters, log path)."""
        failed = self.failed()
        for event in failed:
            text = summarize_failure(self.name(event.task), event.error, event.log_path,
                                     user_module_paths=self.user_module_paths, module_names=self.module_names)
            self.err_console.print(text, markup=False, highlight=False, soft_wrap=True)
        return len(failed)

    def finished(self) -> bool:
        return all(e.state in FINAL_STATES for e in self.events.values())

    def result_line(self, *, index_path: Optional[str] = None, seconds: Optional[float] = None) -> str:
        """The run in one line: outcome, key results, time, and where the HTML index is."""
        elapsed = self.clock() - self.started if seconds is None else seconds
        with self._lock:
            outcome = run_result(self.events)
        line = f"{self.title + ': ' if self.title else ''}{outcome} in {_seconds(elapsed)}"
        return line + (f"; report: {index_path}" if index_path else "")

