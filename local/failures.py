"""A failed task, said in a few lines: the stage, the error that matters, where the full log is.

Our executors raise :class:`~tfx_kfp.runtime.errors.TfxKfpError` subclasses whose
message already names the file, the field and the rule: those are shown as they
are. An exception raised by the user's module is shown as its type and message
with the traceback trimmed to the frames in the user's own files. Anything else
is shown as its last exception and the root cause it was raised from. Beam, TFX
and TensorFlow frames stay in the log.

A task run in another process (subprocess and Docker runners) leaves no
exception object behind, only its log: the last Python traceback printed there
is read back and summarised the same way.
"""

import os
import re
import traceback
from dataclasses import dataclass, field
from typing import Iterable, List, Mapping, Optional

from tfx_kfp.local.errors import TaskFailed
from tfx_kfp.local.logs import is_user_file, shown_name, shown_names
from tfx_kfp.runtime.errors import TfxKfpError

MAX_LINES = 14  # the summary, the log line included; the budget is "under 15"
MAX_MESSAGE_LINES = 6
MAX_LINE_CHARS = 240
MAX_USER_FRAMES = 3
LOG_TAIL_BYTES = 256 * 1024

_TRACEBACK = "Traceback (most recent call last):"
_CHAINED = ("During handling of the above exception, another exception occurred:",
            "The above exception was the direct cause of the following exception:")
_FRAME = re.compile(r'^  File "(?P<file>.+)", line (?P<line>\d+), in (?P<name>.+)$')
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")


@dataclass
class Raised:
    """One exception of a chain, from a live exception or from a traceback printed in a log."""

    type_name: str
    message: str
    ours: bool  # a TfxKfpError: its message says it all
    frames: List[traceback.FrameSummary] = field(default_factory=list)

    def describe(self) -> str:
        return self.message if self.ours else (f"{self.type_name}: {self.message}" if self.message
                                               else self.type_name)


def exception_chain(error: BaseException) -> List[BaseException]:
    """``error`` and the exceptions it was raised from or while handling, outermost first."""
    chain, seen = [], set()
    current: Optional[BaseException] = error
    while current is not None and id(current) not in seen:
        chain.append(current)
        seen.add(id(current))
        if current.__cause__ is not None:
            current = current.__cause__
        elif isinstance(current, TaskFailed) and current.cause is not None:
            current = current.cause
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    return chain


def _our_error_names() -> set:
    found, pending = set(), [TfxKfpError]
    while pending:
        cls = pending.pop()
        found.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return found


def raised_from_exception(error: BaseException) -> List[Raised]:
    """The chain of a live exception, outermost first, without the runner's TaskFailed wrapper."""
    chain = exception_chain(error)
    inner = [e for e in chain if not isinstance(e, TaskFailed)]
    return [Raised(type(e).__name__, str(e), isinstance(e, TfxKfpError), traceback.extract_tb(e.__traceback__))
            for e in inner]


def _parse_block(lines: List[str]) -> Optional[Raised]:
    frames: List[traceback.FrameSummary] = []
    i = 1
    while i < len(lines):
        match = _FRAME.match(lines[i])
        if match:
            code = lines[i + 1].strip() if i + 1 < len(lines) and lines[i + 1].startswith("    ") else None
            frames.append(traceback.FrameSummary(match["file"], int(match["line"]), match["name"],
                                                 lookup_line=False, line=code))
        elif lines[i] and not lines[i].startswith(" "):
            match = _EXCEPTION.match(lines[i])
            if not match:
                return None
            rest = [lines[i][len(match["type"]) + 1:].strip()]
            for line in lines[i + 1:]:  # a message may span lines; what the log says next follows a blank line
                if not line.strip() or len(rest) > MAX_MESSAGE_LINES:
                    break
                rest.append(line)
            type_name = match["type"].rsplit(".", 1)[-1]
            return Raised(type_name, "\n".join(rest).strip(), type_name in _our_error_names(), frames)
        i += 1
    return None


def raised_from_log(log_path: Optional[str]) -> List[Raised]:
    """The last chain of Python tracebacks printed in a log, outermost first."""
    try:
        with open(log_path, "rb") as f:
            f.seek(max(0, os.path.getsize(log_path) - LOG_TAIL_BYTES))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except (OSError, TypeError):
        return []
    starts = [i for i, line in enumerate(lines) if line == _TRACEBACK]
    if not starts:
        return []
    first = len(starts) - 1  # walk back over the tracebacks chained to the last one
    while first > 0 and any(line in _CHAINED for line in lines[starts[first - 1]:starts[first]]):
        first -= 1
    blocks = []
    for n, start in enumerate(starts[first:], first):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        body = [line for line in lines[start:end] if line not in _CHAINED]
        parsed = _parse_block(body)
        if parsed is not None:
            blocks.append(parsed)
    return list(reversed(blocks))  # printed innermost first


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS - 1] + "…"


def _message_lines(message: str, limit: int = MAX_MESSAGE_LINES) -> List[str]:
    lines = [_clip(line.rstrip()) for line in message.strip().splitlines() if line.strip()] or ["(no message)"]
    if len(lines) > limit:
        hidden = len(lines) - (limit - 1)
        lines = lines[:limit - 1] + [f"… {hidden} more line(s) in the log"]
    return lines


def summary_lines(task: str, error: Optional[BaseException], log_path: Optional[str] = None, *,
                  user_module_paths: Iterable[str] = (),
                  module_names: Optional[Mapping[str, str]] = None) -> List[str]:
    """The failure of ``task`` in at most MAX_LINES lines (see :func:`summarize_failure`)."""
    module_names = module_names or {}
    paths = tuple(user_module_paths) + tuple(module_names)
    names = shown_names(module_names)
    chain = (raised_from_exception(error) if error is not None else []) or raised_from_log(log_path)
    frames: List[traceback.FrameSummary] = []
    cause = None
    ours = next((r for r in chain if r.ours), None)
    in_user_code = [(r, [f for f in r.frames if is_user_file(f.filename, paths)]) for r in chain]
    in_user_code = [(r, f) for r, f in in_user_code if f]
    if ours is not None:
        head = ours.describe()
    elif in_user_code:
        # The innermost exception that passed through the user's code is the one the user raised.
        shown, frames = in_user_code[-1]
        head = shown.describe()
    elif chain:
        head = chain[0].describe()
        cause = chain[-1].describe() if len(chain) > 1 else None
    else:  # only the runner's word (an exit code)
        head = str(error).replace(f" (log: {log_path})", "") if error is not None else "no error recorded"
    message = _message_lines(head, MAX_MESSAGE_LINES - (cause is not None))
    lines = [f"{task} failed: {message[0]}"] + [f"  {line}" for line in message[1:]]
    if cause:
        lines.append(f"  caused by: {_message_lines(cause)[0]}")
    if frames:
        kept = frames[-MAX_USER_FRAMES:]
        lines.append("  in your code" + (f" (last {len(kept)} of {len(frames)} frames)" if len(kept) < len(frames)
                                         else "") + ":")
        for frame in kept:
            shown_file = shown_name(names, frame.filename)
            lines.append(f"    {os.path.basename(shown_file)}, line {frame.lineno}, in {frame.name}")
            if frame.line:
                lines.append(f"      {_clip(frame.line.strip())}")
    if log_path:
        lines.append(f"  full log: {log_path}")
    return lines


def summarize_failure(task: str, error: Optional[BaseException], log_path: Optional[str] = None, *,
                      user_module_paths: Iterable[str] = (),
                      module_names: Optional[Mapping[str, str]] = None) -> str:
    """A short failure summary: the stage, the error that matters and the log path.

    Args:
        task: The failed task (stage), e.g. ``transform``.
        error: The exception the task raised (in-process runs; the runner's
            ``TaskFailed`` is looked through), or None / a TaskFailed without a
            cause when the task ran in another process: then the last traceback
            in ``log_path`` is summarised.
        log_path: The task's full log.
        user_module_paths: The user's module files; the traceback is trimmed to
            frames in these (and other files outside the standard library,
            site-packages and tfx_kfp).
        module_names: The file a user module runs from -> the name to show (see
            ``local.logs.capture_task_output``).

    Returns:
        At most MAX_LINES lines of text, no trailing newline.
    """
    return "\n".join(summary_lines(task, error, log_path, user_module_paths=user_module_paths,
                                   module_names=module_names))
