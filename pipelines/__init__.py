"""Compiled training pipelines and presets.

Importing this package (or compiling a pipeline) never imports TensorFlow or TFX.
"""

from tfx_kfp.pipelines.penguin import penguin_pipeline
from tfx_kfp.pipelines.training import PARAMETERS, create_training_pipeline

__all__ = ["compile_pipeline", "create_training_pipeline", "penguin_pipeline", "PARAMETERS"]


def compile_pipeline(pipeline, package_path: str) -> None:
    """Writes ``pipeline`` as KFP v2 YAML, with tfx-kfp's KFP workarounds applied."""
    from kfp import compiler

    from tfx_kfp import kfp_workarounds

    with kfp_workarounds.compiling():
        compiler.Compiler().compile(pipeline, package_path)
