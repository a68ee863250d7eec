"""Finds the served model version and copies it into the baseline artifact (file operations only)."""

import os
import shutil
from typing import Optional

from kfp.dsl import Output

from tfx_kfp.components import names
from tfx_kfp.components.pusher.executor import existing_versions, read_push_record, served_version
from tfx_kfp.components.types import Model
from tfx_kfp.runtime import staging
from tfx_kfp.runtime.errors import PushError


def run(*, serving_base_dir: str, baseline_model: Output[Model]) -> Optional[int]:
    """The ``latest_pushed_model`` component's body; returns the served version or None."""
    version = served_version(serving_base_dir) if serving_base_dir else None
    if version is None:
        os.makedirs(baseline_model.path, exist_ok=True)
        baseline_model.metadata[names.META_BASELINE] = 0
        print(f"latest_pushed_model: no served model under {serving_base_dir!r}; no baseline (first run)")
        return None
    path = existing_versions(serving_base_dir)[version]
    with staging.staged_dir(baseline_model.path) as folder:
        shutil.copytree(path, os.path.join(folder, names.SERVING_MODEL_DIR))
    baseline_model.metadata.update({names.META_BASELINE: 1, names.META_PUSHED_VERSION: version,
                                    names.META_PUSHED_DESTINATION: path})
    try:
        record = read_push_record(path) or {}
    except PushError as e:
        print(f"latest_pushed_model: warning: {e}")
        record = {}
    if record.get("run"):
        baseline_model.metadata["pushed_by_run"] = record["run"]
    for name, value in record.get("metrics", {}).items():  # the metrics it was blessed with
        baseline_model.metadata[f"blessed_{name}"] = value
    print(f"latest_pushed_model: baseline is version {version} at {path}")
    return version
