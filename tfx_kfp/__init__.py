"""tfx-kfp: TFX stages as Kubeflow Pipelines v2 components.

Sub-packages:
  tfx_kfp.components  one KFP component per TFX stage (interface) and its executor.
  tfx_kfp.pipelines   compiled training pipelines and presets.
  tfx_kfp.serving     TF Serving-compatible model server and client.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("tfx-kfp")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
