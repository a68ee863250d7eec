"""Everything one task prints goes to its log file; the user's own warnings still reach the terminal.

The in-process runner wraps each task in :func:`capture_task_output`. What a
task prints comes from four places, each redirected here:

- OS file descriptors 1 and 2 (TensorFlow's C++ logging, Beam workers, anything
  in C or in a child process that inherits them): ``os.dup2`` onto the log;
- ``sys.stdout`` / ``sys.stderr`` (``print``): a forwarding stream to the log;
- logging handlers that write to the terminal (the root logger's, absl's,
  TensorFlow's): their stream is switched to the log for the task's duration;
- ``warnings``: third-party chatter that never concerns the user is ignored at
  its source (:data:`THIRD_PARTY_CHATTER`); any other warning goes to the log,
  except one raised from the user's own code, which is shown on the terminal.

Everything is restored on exit, also when the task raises.
"""

import contextlib
import io
import logging
import os
import site
import sys
import sysconfig
import warnings
from typing import Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

# (action, message regex, category, module regex): the exact warnings that do
# not concern a tfx-kfp user, filtered where they are raised.
THIRD_PARTY_CHATTER: Tuple[Tuple[str, str, type, str], ...] = (
    # google.api_core warns on import about the Python version of every Google client library.
    ("ignore", "", FutureWarning, r"google\.api_core\._python_(version|package)_support"),
    # Deprecations inside the TFX stack are for its maintainers, not for pipeline authors.
    ("ignore", "", DeprecationWarning,
     r"(tfx|tfx_bsl|tensorflow_data_validation|tensorflow_transform|tensorflow_model_analysis"
     r"|apache_beam|tensorflow|keras|google\.protobuf|kfp)(\..*)?$"),
    ("ignore", "", PendingDeprecationWarning, r"(tfx|apache_beam|tensorflow)(\..*)?$"),
    # kfp.local warns on every task of an image it does not recognise as Python; ours is.
    ("ignore", r"You may be attemping to run a task that uses custom or non-Python base image",
     RuntimeWarning, r"kfp\.local\..*"),
)

# Loggers lowered to WARNING during a task: INFO lines that only restate library internals.
QUIET_LOGGERS = (
    "apache_beam.typehints.native_type_compatibility",  # "Using Any for unsupported type: ..."
)

# The file KFP writes a lightweight component's source to before running it: our components'
# thin wrappers around their executors, not the user's code.
COMPONENT_SOURCE_FILE = "ephemeral_component.py"

# TensorFlow reads this once, before its first C++ log line.
TF_CPP_MIN_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"


def tf_cpp_logs_to_task_files(environ=None) -> None:
    """Lets TensorFlow's C++ INFO/WARNING lines reach the task logs instead of being dropped.

    Call before TensorFlow is imported, in a process whose tasks run under
    :func:`capture_task_output` (or whose subprocess tasks write to their log).
    A value the user set is kept.
    """
    environ = os.environ if environ is None else environ
    environ.setdefault(TF_CPP_MIN_LOG_LEVEL, "0")


def shown_names(module_names: Mapping[str, str]) -> Dict[str, str]:
    """``module_names`` keyed by real path and by base name: the file a module runs from (or its base
    name, as ``runtime.user_module.file_name`` gives it; the folder is random) -> the name the user knows."""
    names = {os.path.basename(run_from): shown for run_from, shown in module_names.items()}
    names.update({os.path.realpath(run_from): shown for run_from, shown in module_names.items()})
    return names


def shown_name(names: Mapping[str, str], filename: str) -> str:
    return names.get(os.path.realpath(filename)) or names.get(os.path.basename(filename)) or filename


def _library_roots() -> List[str]:
    roots = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.update(site.getsitepackages())
    roots.add(site.getusersitepackages())
    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tfx_kfp itself
    return [os.path.realpath(r) + os.sep for r in roots if r]


def is_user_file(filename: str, user_module_paths: Iterable[str] = ()) -> bool:
    """Whether a warning or a frame from ``filename`` belongs to the user's code.

    A user module path always does; otherwise any real file that is neither in
    the standard library, in site-packages, in tfx_kfp, nor a component's source.
    """
    if not filename or filename.startswith("<") or os.path.basename(filename) == COMPONENT_SOURCE_FILE:
        return False
    real = os.path.realpath(filename)
    if real in {os.path.realpath(p) for p in user_module_paths}:
        return True
    parts = real.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    return not any(real.startswith(root) for root in _library_roots())


class _Forward(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` during a task: writes go to the log, afterwards to the original.

    Logging handlers created during a task (TensorFlow makes one on first use)
    keep a reference to this object; once the task ends it forwards to the
    stream it replaced instead of to a closed log.
    """

    def __init__(self, original, target):
        super().__init__()
        self.original = original
        self.target = target

    def _stream(self):
        return self.target if self.target is not None else self.original

    def write(self, text):
        return self._stream().write(text)

    def flush(self):
        stream = self._stream()
        if stream is not None and not getattr(stream, "closed", False):
            stream.flush()

    def fileno(self):
        return self._stream().fileno()

    def isatty(self):
        return self.target is None and self.original.isatty()

    def writable(self):
        return True

    @property
    def encoding(self):
        return getattr(self._stream(), "encoding", "utf-8")


def _writes_to_terminal(handler: logging.Handler) -> bool:
    if not isinstance(handler, logging.StreamHandler) or isinstance(handler, logging.FileHandler):
        return False
    stream = handler.stream
    if isinstance(stream, _Forward) or stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        return True
    try:
        return stream.fileno() in (1, 2)
    except (AttributeError, OSError, ValueError):
        return False


def _terminal_handlers() -> List[logging.StreamHandler]:
    loggers = [logging.getLogger()] + [
        logger for logger in list(logging.Logger.manager.loggerDict.values()) if isinstance(logger, logging.Logger)]
    found = []
    for logger in loggers:
        for handler in logger.handlers:
            # absl's ABSLHandler delegates to a StreamHandler it keeps as ``python_handler``.
            for candidate in (handler, getattr(handler, "python_handler", None)):
                # A handler whose ``stream`` is a read-only property (logging's lastResort,
                # ``_StderrHandler``, attached by some library on the current stack) writes to
                # whatever sys.stderr is, which the capture replaces anyway.
                if isinstance(candidate, logging.Handler) and _writes_to_terminal(candidate) \
                        and not isinstance(getattr(type(candidate), "stream", None), property) \
                        and candidate not in found:
                    found.append(candidate)
    return found


def _flush_quietly(*streams) -> None:
    for stream in streams:
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


@contextlib.contextmanager
def _fds_to(log_fd: int) -> Iterator[Optional[int]]:
    """Points fds 1 and 2 at ``log_fd``; yields a duplicate of the original fd 2 (the terminal)."""
    saved = {}
    for fd in (1, 2):
        try:
            saved[fd] = os.dup(fd)
        except OSError:  # not open (a daemon): nothing to redirect
            continue
        os.dup2(log_fd, fd)
    try:
        yield saved.get(2)
    finally:
        for fd, original in saved.items():
            os.dup2(original, fd)
            os.close(original)


@contextlib.contextmanager
def _warnings_routed(log: io.TextIOBase, show_user_warning: Callable[[str], None],
                     user_module_paths: Tuple[str, ...], names: Dict[str, str]) -> Iterator[None]:
    with warnings.catch_warnings():
        for action, message, category, module in THIRD_PARTY_CHATTER:
            warnings.filterwarnings(action, message=message, category=category, module=module)

        def show(message, category, filename, lineno, file=None, line=None):
            if line is None:  # read it from the file that ran, before naming it as the user knows it
                import linecache

                line = linecache.getline(filename, lineno)
            shown = shown_name(names, filename) if filename else filename
            text = warnings.formatwarning(message, category, shown, lineno, line)
            log.write(text)
            if is_user_file(filename, user_module_paths):
                show_user_warning(text)

        warnings.showwarning = show
        yield


@contextlib.contextmanager
def capture_task_output(log_path: str, *, user_module_paths: Iterable[str] = (),
                        module_names: Optional[Mapping[str, str]] = None,
                        show_user_warning: Optional[Callable[[str], None]] = None) -> Iterator[str]:
    """Sends everything one task prints to ``log_path`` (appending); yields the path.

    Args:
        log_path: The task's log file; its folder is created.
        user_module_paths: The user's module files; warnings raised from them (and
            from any other file outside the standard library, site-packages and
            tfx_kfp) are shown to the user as well as logged.
        module_names: The file a user module runs from -> the name to show, e.g.
            ``{runtime.user_module.materialize(source, fn): "my_module.py"}``.
        show_user_warning: Where a user warning is shown (e.g. the live view's
            console); default: the terminal's stderr as it was before the task.
    """
    os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
    module_names = module_names or {}
    user_paths = tuple(user_module_paths) + tuple(module_names)
    _flush_quietly(sys.stdout, sys.stderr)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    log = open(log_path, "a", buffering=1, encoding="utf-8", errors="backslashreplace")
    stdout, stderr = _Forward(sys.stdout, log), _Forward(sys.stderr, log)
    handlers = _terminal_handlers()
    quiet = [(logging.getLogger(name), logging.getLogger(name).level) for name in QUIET_LOGGERS]
    try:
        with _fds_to(log_fd) as terminal_fd:
            def to_terminal(text: str) -> None:
                if terminal_fd is not None:
                    os.write(terminal_fd, text.encode("utf-8", "backslashreplace"))

            sys.stdout, sys.stderr = stdout, stderr
            previous_streams = [handler.setStream(log) for handler in handlers]
            for logger, _ in quiet:
                logger.setLevel(max(logger.level, logging.WARNING))
            try:
                route = _warnings_routed(log, show_user_warning or to_terminal, user_paths, shown_names(module_names))
                with route:
                    yield log_path
            finally:
                for (logger, level) in quiet:
                    logger.setLevel(level)
                for handler, previous in zip(handlers, previous_streams):
                    handler.setStream(previous)
                _flush_quietly(stdout, stderr)
                sys.stdout, sys.stderr = stdout.original, stderr.original
                stdout.target = stderr.target = None
    finally:
        with contextlib.suppress(OSError):  # a full disk loses the log's last lines, not the task's outcome
            log.close()
        os.close(log_fd)
