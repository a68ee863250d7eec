"""Runs one task's container command: in this process, in a subprocess, or in Docker.

Every runner executes the command the compiled spec gives the container (for a
lightweight component: ``sh -ec <write the source; python3 -m
kfp.dsl.executor_main …> <source> --executor_input … --function_to_execute …``)
with placeholders resolved as the backend resolves them. The in-process runner
executes that same program with kfp's own ``Executor`` here, so TensorFlow and
TFX are imported once per run rather than once per task.
"""

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
import uuid
from dataclasses import dataclass
import warnings
from typing import Callable, List, Mapping, Optional, Sequence

from kfp.dsl import executor as kfp_executor

from tfx_kfp.local import logs
from tfx_kfp.runtime import task_env
from tfx_kfp.runtime.user_module import ProcessExit, process_exits_raise

RUNNERS = ("inprocess", "subprocess", "docker")


@dataclass(frozen=True)
class Mounts:
    """Host folders Docker tasks see at the same paths (the pipeline root is always mounted)."""

    read_only: Sequence[str] = ()
    read_write: Sequence[str] = ()


@dataclass
class Outcome:
    """How a task's command ended."""

    exit_code: int
    error: Optional[BaseException] = None
    message: str = ""


def _split_lightweight_command(command: List[str]):
    """``sh -ec <script> <source> --executor_input X --function_to_execute F`` → (source, input, function)."""
    if len(command) < 4 or command[0] != "sh" or "kfp.dsl.executor_main" not in command[2]:
        raise ValueError(f"not a lightweight Python component command: {command[:3]!r}")
    options = dict(zip(command[4::2], command[5::2]))
    return command[3], json.loads(options["--executor_input"]), options["--function_to_execute"]


_removals: List[threading.Thread] = []


def _remove_in_background(folder: str) -> None:
    """Removes ``folder`` while the next task runs: TFX leaves thousands of files in a task's temp dir
    (the user module's wheel, built and installed per stage), whose removal took seconds per task."""
    thread = threading.Thread(target=shutil.rmtree, args=(folder,), kwargs={"ignore_errors": True},
                              name=f"remove {folder}", daemon=True)
    thread.start()
    _removals.append(thread)


def wait_for_removals() -> None:
    """Returns once every task temp dir handed to the background is removed (at the end of a run)."""
    while _removals:
        _removals.pop().join()


@contextlib.contextmanager
def task_temp_dir(environment: Optional[dict] = None):
    """A fresh temporary folder for one task, removed when it ends; yields its path.

    In this process ``tempfile`` and ``TMPDIR`` point at it while the task runs (or, given
    ``environment``, only that child environment's ``TMPDIR``): TFX never removes what it
    creates there (``udf_utils.package_user_module_file`` builds and pip-installs the user
    module's wheel in ``mkdtemp()`` folders, about 168 MB per run), nor do the executor
    contexts' ``tmp_dir``. It is removed in the background (``wait_for_removals``).
    """
    folder = tempfile.mkdtemp(prefix="tfx-kfp-task-tmp-")
    if environment is not None:
        environment["TMPDIR"] = folder
        try:
            yield folder
        finally:
            _remove_in_background(folder)
        return
    saved = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = os.environ["TMPDIR"] = folder
    try:
        yield folder
    finally:
        tempfile.tempdir = saved[0]
        if saved[1] is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved[1]
        _remove_in_background(folder)


def _failure_message(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"the task called sys.exit({error.code!r})"
    if isinstance(error, ProcessExit):
        return f"the task called os._exit({error.code!r}), which would have ended the whole run"
    return repr(error)


def _output(log_path: str, verbose: bool, user_module_paths: Sequence[str], show_user_warning):
    if verbose:  # everything streams to the terminal, as the task prints it
        return contextlib.nullcontext()
    return logs.capture_task_output(log_path, user_module_paths=user_module_paths, show_user_warning=show_user_warning)


@contextlib.contextmanager
def _environment(env: Mapping[str, str]):
    """``env`` in ``os.environ`` while the task runs, as the container's env is in its process."""
    previous = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_in_process(command: List[str], log_path: str, user_module_paths: Sequence[str] = (), *,
                   show_user_warning: Optional[Callable[[str], None]] = None, verbose: bool = False,
                   env: Optional[Mapping[str, str]] = None) -> Outcome:
    """Executes the component function here; any exception (SystemExit included) fails the task.

    Everything the task prints goes to ``log_path`` (``verbose``: to the terminal); a warning
    raised from the user's code is also passed to ``show_user_warning``. A call to ``os._exit``
    in the task raises (``process_exits_raise``) instead of ending the run with its status. ``env``
    (the container's env) is set while the task runs; TensorFlow reads ``TF_USE_LEGACY_KERAS`` only
    when it is first imported, so a run whose process imported it the other way earlier is warned about.
    """
    source, executor_input, function_name = _split_lightweight_command(command)
    env = dict(env or {})
    mismatch = task_env.tensorflow_keras_mismatch(env)
    if mismatch:
        warnings.warn(mismatch, RuntimeWarning, stacklevel=2)
    with _environment({**env, "_KFP_RUNTIME": "true"}):
        with task_temp_dir() as folder, _output(log_path, verbose, user_module_paths, show_user_warning), \
                process_exits_raise():
            path = os.path.join(folder, "ephemeral_component.py")
            with open(path, "w") as f:
                f.write(source)
            spec = importlib.util.spec_from_file_location(f"_tfx_kfp_task_{uuid.uuid4().hex[:8]}", path)
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
                kfp_executor.Executor(executor_input=executor_input,
                                      function_to_execute=getattr(module, function_name)).execute()
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # noqa: BLE001 - SystemExit too: a task that exits has failed
                with contextlib.suppress(OSError):  # the log's disk may be full: the error still counts
                    traceback.print_exc()
                return Outcome(exit_code=1, error=e, message=_failure_message(e))
        return Outcome(exit_code=0)


def run_in_subprocess(command: List[str], log_path: str, *, verbose: bool = False,
                      env: Optional[Mapping[str, str]] = None) -> Outcome:
    """Runs the command as a process whose ``python3`` is this environment's interpreter, with ``env`` added.

    The task gets a process group of its own: when the run is interrupted, the whole group (``sh``
    and the Python it starts) is stopped before the interruption goes on.
    """
    env = dict(os.environ, **(env or {}), PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    with task_temp_dir(env), open(log_path, "ab") as log:
        target = None if verbose else log
        process = subprocess.Popen(command, stdout=target, stderr=subprocess.STDOUT if target else None, env=env,
                                   start_new_session=True)
        try:
            code = process.wait()
        except BaseException:
            _stop_group(process)
            raise
    return Outcome(exit_code=code, message=f"exit code {code}" if code else "")


def _stop_group(process: subprocess.Popen, grace_s: float = 5.0) -> None:
    """SIGTERM to the task's process group, SIGKILL after ``grace_s``; waits until its leader is gone."""
    for number in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, number)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            continue
        with contextlib.suppress(ProcessLookupError):  # the leader's children too
            os.killpg(process.pid, signal.SIGKILL)
        return


def run_in_docker(command: List[str], image: str, log_path: str, pipeline_root: str, mounts: Mounts, *,
                  verbose: bool = False, env: Optional[Mapping[str, str]] = None) -> Outcome:
    """Runs the command in ``image`` as the calling user, with the run's folders at the same paths and ``env``."""
    import docker

    client = docker.from_env()
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise RuntimeError(f"Docker image {image!r} is not present locally: build it with `tfx-kfp image build`") from None
    volumes = {os.path.abspath(p): {"bind": os.path.abspath(p), "mode": "ro"} for p in mounts.read_only}
    volumes.update({os.path.abspath(p): {"bind": os.path.abspath(p), "mode": "rw"}
                    for p in (pipeline_root, *mounts.read_write)})
    container = client.containers.run(image=image, command=command, detach=True, volumes=volumes,
                                      user=f"{os.getuid()}:{os.getgid()}", environment={"HOME": "/tmp", **(env or {})})
    try:
        with open(log_path, "ab") as log:
            for chunk in container.logs(stream=True, follow=True):
                log.write(chunk)
                if verbose:
                    sys.stdout.write(chunk.decode(errors="replace"))
        code = container.wait()["StatusCode"]
    finally:
        container.remove(force=True)
    return Outcome(exit_code=code, message=f"exit code {code}" if code else "")
