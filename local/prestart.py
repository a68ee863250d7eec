"""Work an in-process run starts before a task's turn, so that it runs on another core.

The in-process runner runs one task at a time in this process: on a 2-core machine the second
core idles through every stage. The InfraValidator loads the model in a fresh child process
(``components/infra_validator/load_check.py``) whose TensorFlow import takes about 10 s; started
with the run, that import overlaps the stages before it. (In a container of its own, on KFP or
with the other local runners, the component starts the same process before importing TensorFlow
itself, which overlaps the two imports.)
"""

import contextlib
import importlib
import os
from typing import Iterator, List

from tfx_kfp.local.spec import CompiledPipeline
from tfx_kfp.runtime import task_env

# A lightweight component's function -> the module offering ``prestart(env)`` and ``discard_prestarted()``.
PRESTARTS = {"infra_validator": "tfx_kfp.components.infra_validator.load_check"}
FUNCTION_FLAG = "--function_to_execute"


def _prestartable(compiled: CompiledPipeline) -> List[tuple]:
    """(module name, the task's env) for each executor whose function has a prestart."""
    found = []
    for executor in compiled.deployment.get("executors", {}).values():
        container = executor.get("container", {})
        arguments = container.get("args", [])
        for flag, value in zip(arguments, arguments[1:]):
            if flag == FUNCTION_FLAG and value in PRESTARTS:
                found.append((PRESTARTS[value], task_env.effective(task_env.spec_env(container))))
    return found


@contextlib.contextmanager
def prestarted(compiled: CompiledPipeline) -> Iterator[None]:
    """Starts the prestarts of the pipeline's tasks; stops what no task used when the run ends.

    Only with more than one core to run on: on one, the prestart would slow the stages it overlaps.
    """
    modules = []
    for module_name, env in _prestartable(compiled) if len(os.sched_getaffinity(0)) > 1 else ():
        module = importlib.import_module(module_name)
        module.prestart(env)
        modules.append(module)
    try:
        yield
    finally:
        for module in modules:
            module.discard_prestarted()
