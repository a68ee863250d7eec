"""TF Serving's SavedModel loader check, in a child process that is killed when the load takes too long.

TF Serving loads a SavedModel with the TF1 ``SavedModelBundle`` loader, which runs the model's
init op; an init op that blocks (a queue that is never fed, a stuck file system) never returns
and cannot be interrupted in-process. TFX's InfraValidator bounds the load by
``max_loading_time_seconds`` and marks the model not blessed when it passes; this does the same
with a child process: importing TensorFlow there is bounded separately (``IMPORT_TIMEOUT_S``),
so the limit applies to the load alone.

Run as ``python -m tfx_kfp.components.infra_validator.load_check``: it prints a line once
TensorFlow is imported, reads one request line (``DIR OUT TAGS``, JSON) from its stdin, then writes
the loaded MetaGraphDef (or ``error: …``) to ``OUT``.

``prestart`` starts that process ahead of the load, so that its TensorFlow import (about 10 s on
2 cores) runs on the other core while this process imports TensorFlow itself, or, in the local
in-process runner, while the stages before the InfraValidator run; ``load_in_child`` then uses it.
"""

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import IO, Mapping, Optional, Sequence, Tuple

# tfx/components/infra_validator/executor.py _DEFAULT_MAX_LOADING_TIME_SEC (restated: importing that module
# pulls in its Docker and Kubernetes runners; tests/executors/test_infra_validator_requests.py checks they agree).
MAX_LOADING_TIME_S = 300.0
IMPORTED = "imported"
ERROR_PREFIX = b"error: "
IMPORT_TIMEOUT_S = 600.0  # TensorFlow's import on a loaded 2-core machine takes up to a minute


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _await_line(process: subprocess.Popen, timeout_s: float) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    return process.stdout.readline().decode(errors="replace").strip() if ready else ""


@dataclass
class _Loader:
    """A loader process; what it prints goes to ``output`` and is copied to the task's stderr after the load
    (a prestarted process started before the task's output went to the task's log)."""

    process: subprocess.Popen
    output: IO[bytes]

    def stop(self) -> None:
        _stop(self.process)

    def close(self, copy_output: bool = True) -> None:
        """Closes its pipes and output, after copying the output to file descriptor 2 (where a task's log
        captures what a child prints) unless ``copy_output`` is false."""
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        if copy_output:
            self.output.seek(0)
            with contextlib.suppress(OSError):
                sys.stderr.flush()
                for chunk in iter(lambda: self.output.read(1 << 16), b""):
                    while chunk:
                        chunk = chunk[os.write(2, chunk):]
        self.output.close()


_prestarted: Optional[_Loader] = None


def _spawn(env: Optional[Mapping[str, str]] = None) -> _Loader:
    output = tempfile.TemporaryFile(prefix="infra-validation-loader-")
    process = subprocess.Popen([sys.executable, "-m", __spec__.name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=output, start_new_session=True,
                               env=None if env is None else {**os.environ, **env})
    return _Loader(process, output)


def prestart(env: Optional[Mapping[str, str]] = None) -> None:
    """Starts the loader process now (``env`` added to this environment); the next ``load_in_child`` uses it."""
    global _prestarted
    if _prestarted is None or _prestarted.process.poll() is not None:
        _prestarted = _spawn(env)


def discard_prestarted() -> None:
    """Stops a prestarted loader process that no load used (the run ended before its InfraValidator)."""
    global _prestarted
    loader, _prestarted = _prestarted, None
    if loader is not None:
        loader.stop()
        loader.close(copy_output=False)


def _take_loader() -> _Loader:
    global _prestarted
    loader, _prestarted = _prestarted, None
    if loader is not None and loader.process.poll() is None:
        return loader
    if loader is not None:
        loader.close()
    return _spawn()


def load_in_child(saved_model_dir: str, tags: Sequence[str], timeout_s: float) -> Tuple[Optional[bytes], str]:
    """Loads the SavedModel as TF Serving does, in a child process given ``timeout_s`` for the load.

    Returns:
        (the serialized MetaGraphDef, "") or (None, why it did not load).
    """
    with tempfile.TemporaryDirectory(prefix="infra-validation-load-") as folder:
        result = os.path.join(folder, "result")
        loader = _take_loader()
        process = loader.process
        try:
            with contextlib.suppress(BrokenPipeError):  # it died: reported below as not started
                process.stdin.write(json.dumps([saved_model_dir, result, ",".join(tags)]).encode() + b"\n")
                process.stdin.close()
            if _await_line(process, IMPORT_TIMEOUT_S) != IMPORTED:
                loader.stop()
                return None, f"the loader process did not start within {IMPORT_TIMEOUT_S:g} s (TensorFlow's import)"
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                loader.stop()
                return None, (f"the SavedModel did not load within {timeout_s:g} s (load_timeout_seconds); "
                              "the loader was stopped, as TFX's InfraValidator stops after its maximum loading time")
        except BaseException:
            loader.stop()
            raise
        finally:
            loader.close()
        try:
            with open(result, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None, f"the loader process ended with status {process.returncode} without a result"
    if data.startswith(ERROR_PREFIX):
        return None, data[len(ERROR_PREFIX):].decode(errors="replace")
    return data, ""


def _main() -> int:
    import tensorflow as tf

    print(IMPORTED, flush=True)
    request = sys.stdin.readline()
    if not request:  # the parent ended, or discarded this process, before asking for a load
        return 0
    saved_model_dir, result, tags = json.loads(request)
    os.dup2(2, 1)  # whatever the load prints goes to the loader's output, never into the pipe nobody reads now
    graph = tf.Graph()
    try:
        with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
            meta_graph_def = tf.compat.v1.saved_model.loader.load(session, tags.split(","), saved_model_dir)
        data = meta_graph_def.SerializeToString()
    except Exception as error:  # noqa: BLE001 - any loader failure is the finding, reported as is
        data = ERROR_PREFIX + f"{type(error).__name__}: {error}".encode()
    with open(result + ".partial", "wb") as f:
        f.write(data)
    os.replace(result + ".partial", result)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
