"""A task succeeds only when its declared outputs exist and are complete.

kfp's ``Executor`` writes ``executor_output.json`` as its last step, after the component
function returned (kfp/dsl/executor.py ``write_executor_output``), so its absence after
an exit status of 0 means the process ended early (``os._exit``, a C library's ``exit``)
and whatever outputs exist were not finished. The KFP launcher is more lenient
(component/launcher_v2.go ``uploadOutputArtifacts`` lets a component leave an output
file unwritten); a local run is stricter, so that such a task fails here first.
"""

import os
from typing import Any, Dict, List, Mapping

from tfx_kfp.runtime.user_module import file_name

# Artifact types whose content is their metadata: the executor writes no file for them.
METADATA_ONLY_TYPES = ("system.Metrics", "system.ClassificationMetrics", "system.SlicedClassificationMetrics")


def _missing_artifacts(executor_input: Mapping[str, Any]) -> List[str]:
    missing = []
    for key, artifact_list in executor_input["outputs"]["artifacts"].items():
        declared = artifact_list["artifacts"][0]
        if declared["type"].get("schemaTitle") in METADATA_ONLY_TYPES:
            continue
        if not os.path.exists(declared["uri"]):
            missing.append(key)
    return missing


def user_modules(parameters: Mapping[str, Any]) -> Dict[str, str]:
    """Parameter name -> the file name a user module given as source text runs as (``module_source``…)."""
    return {key: file_name(value) for key, value in parameters.items()
            if "module_source" in key and isinstance(value, str) and value.strip()}


def early_exit(executor_input: Mapping[str, Any], parameters: Mapping[str, Any], exit_code: int) -> str:
    """Why a task whose command exited with ``exit_code`` did not finish; empty when it did."""
    if os.path.exists(executor_input["outputs"]["outputFile"]):
        missing = _missing_artifacts(executor_input)
        return f"its declared output(s) {', '.join(missing)} were not written" if missing else ""
    missing = _missing_artifacts(executor_input)
    unwritten = ["executor_output.json"] + [f"output {key}" for key in missing]
    modules = user_modules(parameters)
    blame = ("; the user module " + ", ".join(f"{key} ({name})" for key, name in modules.items())
             + " may have ended the process (os._exit)") if modules else ""
    return (f"the task's process ended with exit status {exit_code} before its component function returned "
            f"({', '.join(unwritten)} not written){blame}")
