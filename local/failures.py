"""A failed task, said in a few lines: the stage, the error that matters, where the full log is.

Our executors raise :class:`~tfx_kfp.runtime.errors.TfxKfpError` subclasses whose
message already names the file, the field and the rule: those are shown as they
are. An exception raised by the user's module is shown as its type and message
with the traceback trimmed to the frames in the user's own files. Anything else
is shown as its last exception and the root cause it was raised from. Beam, TFX and TensorFlow frames stay in the log.
"""

import os
import traceback
from typing import Iterable, List, Mapping, Optional

from tfx_kfp.local.logs import is_user_file, shown_names
from tfx_kfp.runtime.errors import TfxKfpError

MAX_LINES = 14  # the summary, the log line included; the budget is "under 15"
MAX_MESSAGE_LINES = 6
MAX_LINE_CHARS = 240
MAX_USER_FRAMES = 3


def exception_chain(error: BaseException) -> List[BaseException]:
    """``error`` and the exceptions it was raised from or while handling, outermost first."""
    chain, seen = [], set()
    current: Optional[BaseException] = error
    while current is not None and id(current) not in seen:
        chain.append(current)
        seen.add(id(current))
        if current.__cause__ is not None:
            current = current.__cause__
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    return chain


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS - 1] + "…"


def _message_lines(message: str, limit: int = MAX_MESSAGE_LINES) -> List[str]:
    lines = [_clip(line.rstrip()) for line in message.strip().splitlines() if line.strip()] or ["(no message)"]
    if len(lines) > limit:
        hidden = len(lines) - (limit - 1)
        lines = lines[:limit - 1] + [f"… {hidden} more line(s) in the log"]
    return lines


def _user_frames(error: BaseException, user_module_paths: Iterable[str]) -> List[traceback.FrameSummary]:
    paths = tuple(user_module_paths)
    return [frame for frame in traceback.extract_tb(error.__traceback__)
            if is_user_file(frame.filename, paths)]


def _describe(error: BaseException) -> str:
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def summary_lines(task: str, error: BaseException, log_path: Optional[str] = None, *,
                  user_module_paths: Iterable[str] = (), module_names: Optional[Mapping[str, str]] = None) -> List[str]:
    """The failure of ``task`` in at most MAX_LINES lines (see :func:`summarize_failure`)."""
    module_names = module_names or {}
    chain = exception_chain(error)
    ours = next((e for e in chain if isinstance(e, TfxKfpError)), None)
    paths = tuple(user_module_paths) + tuple(module_names)
    names = shown_names(module_names)
    frames: List[traceback.FrameSummary] = []
    cause = None
    in_user_code = [(e, f) for e, f in ((e, _user_frames(e, paths)) for e in chain) if f]
    if ours is not None:
        head = str(ours) or type(ours).__name__
    elif in_user_code:
        # The innermost exception that passed through the user's code is the one the user raised.
        shown, frames = in_user_code[-1]
        head = _describe(shown)
    else:
        head = _describe(chain[0])
        cause = _describe(chain[-1]) if len(chain) > 1 else None
    message = _message_lines(head, MAX_MESSAGE_LINES - (cause is not None))
    lines = [f"{task} failed: {message[0]}"] + [f"  {line}" for line in message[1:]]
    if cause:
        lines.append(f"  caused by: {_message_lines(cause)[0]}")
    if frames:
        kept = frames[-MAX_USER_FRAMES:]
        lines.append("  in your code" + (f" (last {len(kept)} of {len(frames)} frames)" if len(kept) < len(frames)
                                         else "") + ":")
        for frame in kept:
            shown = names.get(os.path.realpath(frame.filename), frame.filename)
            lines.append(f"    {os.path.basename(shown)}, line {frame.lineno}, in {frame.name}")
            if frame.line:
                lines.append(f"      {_clip(frame.line.strip())}")
    if log_path:
        lines.append(f"  full log: {log_path}")
    return lines


def summarize_failure(task: str, error: BaseException, log_path: Optional[str] = None, *,
                      user_module_paths: Iterable[str] = (), module_names: Optional[Mapping[str, str]] = None) -> str:
    """A short failure summary: the stage, the error that matters and the log path.

    Args:
        task: The failed task (stage), e.g. ``transform``.
        error: The exception the task raised.
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
