"""Runs kfp.local tasks inside the current process.

``kfp.local.SubprocessRunner`` starts one Python process per task, and each
TFX task then pays for importing TensorFlow and TFX again (~20 s on a 2-core
machine; a pipeline has eight tasks). This runner executes the very same
lightweight-component command — the ephemeral module KFP generates, run by
``kfp.dsl.executor.Executor`` — in this process, so those imports are paid
once. It swaps ``kfp.local.subprocess_task_handler.run_local_subprocess``
(KFP 2.13) while active; everything else about the task (executor input,
outputs, logs) is kfp.local's own.
"""

import contextlib
import importlib.util
import json
import os
import sys
import tempfile
import traceback
import uuid
from typing import Iterator, List

from kfp.dsl import executor as kfp_executor
from kfp.local import subprocess_task_handler


def _parse_command(full_command: List[str]):
    """Splits ``sh -ec <script> <source> --executor_input X --function_to_execute F``."""
    if len(full_command) < 4 or full_command[0] != "sh" or "kfp.dsl.executor_main" not in full_command[2]:
        raise ValueError(f"not a lightweight Python component command: {full_command[:3]!r}")
    source, args = full_command[3], full_command[4:]
    options = dict(zip(args[::2], args[1::2]))
    return source, json.loads(options["--executor_input"]), options["--function_to_execute"]


def run_task_in_process(full_command: List[str]) -> int:
    """Executes one task's component function here; returns 0 on success, 1 on failure."""
    source, executor_input, function_name = _parse_command(full_command)
    with tempfile.TemporaryDirectory(prefix="tfx-kfp-task-") as folder:
        path = os.path.join(folder, "ephemeral_component.py")
        with open(path, "w") as f:
            f.write(source)
        spec = importlib.util.spec_from_file_location(f"_tfx_kfp_task_{uuid.uuid4().hex[:8]}", path)
        module = importlib.util.module_from_spec(spec)
        previous = os.environ.get("_KFP_RUNTIME")
        os.environ["_KFP_RUNTIME"] = "true"
        try:
            spec.loader.exec_module(module)
            kfp_executor.Executor(
                executor_input=executor_input, function_to_execute=getattr(module, function_name)
            ).execute()
            return 0
        except Exception:  # the task fails; kfp.local reports it and stops the pipeline
            traceback.print_exc(file=sys.stdout)  # as kfp.local shows a subprocess task's stderr
            return 1
        finally:
            if previous is None:
                os.environ.pop("_KFP_RUNTIME", None)
            else:
                os.environ["_KFP_RUNTIME"] = previous


@contextlib.contextmanager
def in_process_tasks() -> Iterator[None]:
    """While active, kfp.local's SubprocessRunner runs tasks in this process."""
    original = subprocess_task_handler.run_local_subprocess
    subprocess_task_handler.run_local_subprocess = run_task_in_process
    try:
        yield
    finally:
        subprocess_task_handler.run_local_subprocess = original
