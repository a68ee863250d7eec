"""TF Serving's SavedModel loader check, in a child process that is killed when the load takes too long.

TF Serving loads a SavedModel with the TF1 ``SavedModelBundle`` loader, which runs the model's
init op; an init op that blocks (a queue that is never fed, a stuck file system) never returns
and cannot be interrupted in-process. TFX's InfraValidator bounds the load by
``max_loading_time_seconds`` and marks the model not blessed when it passes; this does the same
with a child process: importing TensorFlow there is bounded separately (``IMPORT_TIMEOUT_S``),
so the limit applies to the load alone.

Run as ``python -m tfx_kfp.components.infra_validator.load_check DIR OUT TAGS``: it prints a line
once TensorFlow is imported, then writes the loaded MetaGraphDef (or ``error: …``) to ``OUT``.
"""

import contextlib
import os
import select
import signal
import subprocess
import sys
import tempfile
from typing import Optional, Sequence, Tuple

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


def load_in_child(saved_model_dir: str, tags: Sequence[str], timeout_s: float) -> Tuple[Optional[bytes], str]:
    """Loads the SavedModel as TF Serving does, in a child process given ``timeout_s`` for the load.

    Returns:
        (the serialized MetaGraphDef, "") or (None, why it did not load).
    """
    with tempfile.TemporaryDirectory(prefix="infra-validation-load-") as folder:
        result = os.path.join(folder, "result")
        command = [sys.executable, "-m", __spec__.name, saved_model_dir, result, ",".join(tags)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, start_new_session=True)
        try:
            if _await_line(process, IMPORT_TIMEOUT_S) != IMPORTED:
                _stop(process)
                return None, f"the loader process did not start within {IMPORT_TIMEOUT_S:g} s (TensorFlow's import)"
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _stop(process)
                return None, (f"the SavedModel did not load within {timeout_s:g} s (load_timeout_seconds); "
                              "the loader was stopped, as TFX's InfraValidator stops after its maximum loading time")
        except BaseException:
            _stop(process)
            raise
        finally:
            process.stdout.close()
        try:
            with open(result, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None, f"the loader process ended with status {process.returncode} without a result"
    if data.startswith(ERROR_PREFIX):
        return None, data[len(ERROR_PREFIX):].decode(errors="replace")
    return data, ""


def _main(saved_model_dir: str, result: str, tags: str) -> int:
    import tensorflow as tf

    print(IMPORTED, flush=True)
    os.dup2(2, 1)  # whatever the load prints goes to the log, never into the pipe nobody reads now
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
    sys.exit(_main(*sys.argv[1:4]))
