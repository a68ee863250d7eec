"""The user's module file, which travels as text.

A TFX module file (``preprocessing_fn`` for Transform, ``run_fn(fn_args)`` for
the Trainer) is passed to components as its source text, so it reaches cluster
pods without rebuilding the image. Here it is written back to a file that TFX
loads exactly as it would load a ``module_file``.

The file goes into a folder private to this task (created by ``mkdtemp``: mode 0700, a
random name, checked to be ours), never a shared predictable path another user could
plant code at, and its bytes are checked against the source's SHA-256 before TFX imports
it. A ``SystemExit`` raised by the module (at import or in its functions), or a call to
``os._exit`` while it runs, fails the task naming the module.

On a cluster the ``module_source`` parameter holds a *reference* instead of the text
(``tfx-kfp-module-file:<path>#sha256=<hex>``, written by ``pipelines/cluster.py``): a file on
the mounted model store, named by its SHA-256, which is checked before the module is used.
A parameter that large cannot travel as itself (docs/kind.md, "How the module reaches the pods").
"""

import ast
import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
import re
import types
from typing import Dict, Iterator, List, Optional

from tfx_kfp.runtime.errors import UserModuleError
from tfx_kfp.runtime.staging import write_file


MODULE_FILE_PREFIX = "tfx-kfp-module-file:"
_REFERENCE = re.compile(r"tfx-kfp-module-file:(?P<path>/[^#]+)#sha256=(?P<digest>[0-9a-f]{64})")


def sha256_of(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def reference(source: str, folder: str) -> str:
    """The reference to ``source`` stored as ``<folder>/<sha256>.py`` (what the cluster parameter holds)."""
    digest = sha256_of(source)
    return f"{MODULE_FILE_PREFIX}{folder.rstrip('/')}/{digest}.py#sha256={digest}"


def is_reference(value: str) -> bool:
    return isinstance(value, str) and value.startswith(MODULE_FILE_PREFIX)


def _parse_reference(value: str, origin: str):
    match = _REFERENCE.fullmatch(value.strip())
    if not match:
        raise UserModuleError(f"{origin}: {value!r} is not a module reference of the form "
                              f"{MODULE_FILE_PREFIX}<absolute path>#sha256=<64 lowercase hex digits>")
    return match.group("path"), match.group("digest")


def referenced_path(value: str, origin: str = "module_source") -> str:
    """The absolute path of the module file a reference names."""
    return _parse_reference(value, origin)[0]


def resolve(value: str, origin: str = "module_source") -> str:
    """The module's source text: ``value`` itself, or the verified file a reference names."""
    if not is_reference(value):
        return value
    path, digest = _parse_reference(value, origin)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UserModuleError(
            f"{origin}: the module file {path} it refers to cannot be read ({e.strerror}); copy the module "
            f"there first (on kind: bash scripts/kind/install-module.sh <module.py>; docs/kind.md)") from e
    found = hashlib.sha256(data).hexdigest()
    if found != digest:
        raise UserModuleError(f"{origin}: {path} has sha256 {found[:12]}, but the reference expects "
                              f"{digest[:12]}; refusing to load it (reinstall the module file)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserModuleError(f"{origin}: {path}: not UTF-8 text: {e}") from e


def defined_functions(source: str, origin: str = "module_source") -> set:
    """Top-level function names in ``source``; raises UserModuleError if it does not parse."""
    try:
        tree = ast.parse(source, filename=origin)
    except SyntaxError as e:
        raise UserModuleError(f"{origin}: line {e.lineno}: not valid Python: {e.msg}") from e
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def check_source(source: str, required_function: str, origin: str = "module_source") -> None:
    """Raises UserModuleError unless ``source`` parses and defines ``required_function`` at top level.

    A reference (``is_reference``) is checked for its form only: its file is on the cluster's volume.
    """
    if is_reference(source):
        _parse_reference(source, origin)
        return
    if not source or not source.strip():
        raise UserModuleError(f"{origin}: empty: expected the Python source of a TFX module file")
    functions = defined_functions(source, origin)
    if required_function not in functions:
        found = ", ".join(sorted(functions)) or "none"
        raise UserModuleError(
            f"{origin}: must define a top-level function {required_function!r}; functions found: {found}"
        )


def check_private(folder: str) -> None:
    """Raises UserModuleError unless ``folder`` is a real directory owned by us that only we can use."""
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise UserModuleError(
            f"{folder}: the user module folder must be a directory owned by uid {os.geteuid()} with mode 0700 "
            f"(found uid {info.st_uid}, mode {stat.filemode(info.st_mode)}); refusing to load code from it")


def verify(path: str, source: str, origin: str = "module_source") -> None:
    """Raises UserModuleError unless the file at ``path`` holds exactly ``source`` (by SHA-256)."""
    with open(path, "rb") as f:
        found = hashlib.sha256(f.read()).hexdigest()
    expected = hashlib.sha256(source.encode()).hexdigest()
    if found != expected:
        raise UserModuleError(f"{origin}: {path} does not hold the module source "
                              f"(sha256 {found[:12]}, expected {expected[:12]}); refusing to load it")


def file_name(source: str) -> str:
    """The base name the module file gets (its folder is random): how tracebacks and warnings name it."""
    return f"user_module_{hashlib.sha256(source.encode()).hexdigest()[:12]}.py"


@contextlib.contextmanager
def materialized(source: str, required_function: str, origin: str = "module_source") -> Iterator[str]:
    """Yields the path of a verified ``.py`` file holding ``source`` in a private folder; removes it after.

    Args:
        source: The module's Python source.
        required_function: The function TFX will call (``preprocessing_fn`` or ``run_fn``).
        origin: How to name the module in error messages.
    """
    source = resolve(source, origin)
    check_source(source, required_function, origin)
    folder = tempfile.mkdtemp(prefix="tfx-kfp-user-module-")
    try:
        check_private(folder)
        # A folder of its own: TFX packages every .py file beside the module into its wheel.
        path = os.path.join(folder, "module", file_name(source))
        write_file(path, source, mode=0o600)
        verify(path, source, origin)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _where(traceback: Optional[types.TracebackType], module_path: str) -> str:
    """Where in the user's module the exit happened, from the innermost frame in that file."""
    where = ""
    while traceback is not None:
        code = traceback.tb_frame.f_code
        if os.path.basename(code.co_filename) == os.path.basename(module_path):
            where = " at import" if code.co_name == "<module>" else f" in {code.co_name}"
            where += f" (line {traceback.tb_lineno})"
        traceback = traceback.tb_next
    return where


class ProcessExit(BaseException):
    """``os._exit(code)`` was called where it must not end the process (see ``process_exits_raise``)."""

    def __init__(self, code):
        super().__init__(f"os._exit({code!r})")
        self.code = code


@contextlib.contextmanager
def process_exits_raise() -> Iterator[None]:
    """While inside, ``os._exit(code)`` in this process raises ProcessExit instead of ending it unreported.

    ``os._exit`` skips every ``finally`` and ends the process with the given status, 0 included, so a
    task would end as if it had succeeded without writing its outputs. A forked child (its pid differs)
    still exits: that is what ``os._exit`` is for there.
    """
    import posix

    owner, real_exit = os.getpid(), posix._exit
    saved = os._exit, posix._exit

    def raise_instead(code):
        if os.getpid() != owner:
            real_exit(code)
        raise ProcessExit(code)

    os._exit = posix._exit = raise_instead
    try:
        yield
    finally:
        os._exit, posix._exit = saved


@contextlib.contextmanager
def exits_are_failures(module_path: str, origin: str = "module_source") -> Iterator[None]:
    """Turns a ``SystemExit`` or an ``os._exit`` (any code, 0 included) while TFX runs the user module into a failure."""
    try:
        with process_exits_raise():
            yield
    except (SystemExit, ProcessExit) as e:
        call = f"os._exit({e.code!r})" if isinstance(e, ProcessExit) else f"sys.exit({e.code!r})"
        raise UserModuleError(
            f"{origin} ({os.path.basename(module_path)}): the user module called {call}"
            f"{_where(e.__traceback__, module_path)}; exiting is not a way to finish a task, so it failed "
            f"(return normally, or raise an exception to report an error)") from e


def _runs_in_this_process(beam_pipeline_args: List[str]) -> bool:
    """True for Beam's DirectRunner in in_memory mode, where workers share this interpreter."""
    args = " ".join(beam_pipeline_args or [])
    runner_is_direct = "--runner" not in args or "--runner=DirectRunner" in args
    return runner_is_direct and "--direct_running_mode=in_memory" in args


@contextlib.contextmanager
def loaded(source: str, required_function: str, beam_pipeline_args: Optional[List[str]] = None,
           origin: str = "module_source") -> Iterator[Dict[str, str]]:
    """Yields the TFX exec properties that point an executor at the user module; run the executor inside.

    For Beam workers in other processes (DirectRunner multi-processing, Flink, Spark,
    Dataflow) the module is packaged as a wheel, exactly as TFX does for its own runners:
    the executor then pip-installs it for subprocesses and stages it with
    ``--extra_package``. In-memory and non-Beam runs load the file directly.
    """
    from tfx.types import standard_component_specs as specs

    source = resolve(source, origin)
    with materialized(source, required_function, origin) as path:
        if beam_pipeline_args is None or _runs_in_this_process(beam_pipeline_args):
            properties = {specs.MODULE_FILE_KEY: path}
        else:
            from tfx.components.util import udf_utils

            wheel_dir = os.path.join(os.path.dirname(os.path.dirname(path)), "wheel")
            os.mkdir(wheel_dir, 0o700)
            _, module_key = udf_utils.package_user_module_file("tfx_kfp", path, wheel_dir)
            properties = {specs.MODULE_PATH_KEY: module_key}
        verify(path, source, origin)  # last look before TFX imports it
        with exits_are_failures(path, origin):
            yield properties
