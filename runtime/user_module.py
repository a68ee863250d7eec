"""The user's module file, which travels as text.

A TFX module file (``preprocessing_fn`` for Transform, ``run_fn(fn_args)`` for
the Trainer) is passed to components as its source text, so it reaches cluster
pods without rebuilding the image. Here it is written back to a file that TFX
loads exactly as it would load a ``module_file``.
"""

import ast
import hashlib
import os
import tempfile
from typing import Dict, List, Optional

from tfx_kfp.runtime.errors import UserModuleError


def defined_functions(source: str, origin: str = "module_source") -> set:
    """Top-level function names in ``source``; raises UserModuleError if it does not parse."""
    try:
        tree = ast.parse(source, filename=origin)
    except SyntaxError as e:
        raise UserModuleError(f"{origin}: line {e.lineno}: not valid Python: {e.msg}") from e
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def materialize(source: str, required_function: str, origin: str = "module_source") -> str:
    """Writes ``source`` to a stable file path after checking it defines ``required_function``.

    Args:
        source: The module's Python source.
        required_function: The function TFX will call (``preprocessing_fn`` or ``run_fn``).
        origin: How to name the module in error messages.

    Returns:
        The path of a ``.py`` file holding ``source``.
    """
    if not source or not source.strip():
        raise UserModuleError(f"{origin}: empty: expected the Python source of a TFX module file")
    functions = defined_functions(source, origin)
    if required_function not in functions:
        found = ", ".join(sorted(functions)) or "none"
        raise UserModuleError(
            f"{origin}: must define a top-level function {required_function!r}; functions found: {found}"
        )
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    # One folder per module: TFX packages every .py file beside the module into its wheel.
    folder = os.path.join(tempfile.gettempdir(), "tfx-kfp-user-modules", digest)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"user_module_{digest}.py")
    if not os.path.exists(path):
        staging = f"{path}.{os.getpid()}.tmp"
        with open(staging, "w") as f:
            f.write(source)
        os.replace(staging, path)
    return path


def _runs_in_this_process(beam_pipeline_args: List[str]) -> bool:
    """True for Beam's DirectRunner in in_memory mode, where workers share this interpreter."""
    args = " ".join(beam_pipeline_args or [])
    runner_is_direct = "--runner" not in args or "--runner=DirectRunner" in args
    return runner_is_direct and "--direct_running_mode=in_memory" in args


def module_properties(source: str, required_function: str, beam_pipeline_args: Optional[List[str]] = None,
                      origin: str = "module_source") -> Dict[str, str]:
    """TFX exec properties that point an executor at the user module.

    For Beam workers in other processes (DirectRunner multi-processing, Flink, Spark,
    Dataflow) the module is packaged as a wheel, exactly as TFX does for its own runners:
    the executor then pip-installs it for subprocesses and stages it with
    ``--extra_package``. In-memory and non-Beam runs load the file directly.
    """
    from tfx.types import standard_component_specs as specs

    path = materialize(source, required_function, origin)
    if beam_pipeline_args is None or _runs_in_this_process(beam_pipeline_args):
        return {specs.MODULE_FILE_KEY: path}
    from tfx.components.util import udf_utils

    _, module_key = udf_utils.package_user_module_file(
        "tfx_kfp", path, tempfile.mkdtemp(prefix="tfx-kfp-user-wheel-"))
    return {specs.MODULE_PATH_KEY: module_key}
