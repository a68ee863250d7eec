"""tfx-kfp: TFX stages as Kubeflow Pipelines v2 components.

The repository root is this package; each top-level folder X is ``tfx_kfp.X`` (the list is
setup.py's SUBPACKAGES; why the root is the package: setup.py's docstring):

  cli         the ``tfx-kfp`` command, thin over the library below.
  cluster     runs on Kubeflow Pipelines: upload a version, run, follow, schedule (``submit``).
  local       local runs of a compiled pipeline spec, with the KFP backend's semantics.
  pipelines   compiled training pipelines and presets.
  components  one KFP component per TFX stage (interface) and its executor.
  runtime     what executors share inside a task (staging, errors, user modules).
  reports     the HTML/Markdown reports every stage writes.
  serving     TF Serving-compatible model server and client (independent of the rest).
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("tfx-kfp")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
