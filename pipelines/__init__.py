"""Compiled training pipelines and presets.

Importing this package (or compiling a pipeline) never imports TensorFlow or TFX.
"""

from tfx_kfp.pipelines.penguin import penguin_pipeline
from tfx_kfp.pipelines.training import PARAMETERS, create_training_pipeline

__all__ = ["create_training_pipeline", "penguin_pipeline", "PARAMETERS"]
