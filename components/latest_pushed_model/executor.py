"""Finds the served model version and copies it into the baseline artifact (file operations only)."""

import os
import shutil
from typing import Optional, Tuple

from kfp.dsl import Output

from tfx_kfp.components import names
from tfx_kfp.components.pusher.push import existing_versions, read_push_record
from tfx_kfp.components.types import Model
from tfx_kfp.runtime import staging
from tfx_kfp.runtime.errors import PushError

SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")


def served_version(serving_base_dir: str) -> Optional[Tuple[int, str]]:
    """(version, path) of the newest version folder that holds a SavedModel, or None."""
    for version, path in sorted(existing_versions(serving_base_dir).items(), reverse=True):
        if any(os.path.isfile(os.path.join(path, f)) for f in SAVED_MODEL_FILES):
            return version, path
    return None


def run(*, serving_base_dir: str, baseline_model: Output[Model]) -> Optional[int]:
    """The ``latest_pushed_model`` component's body; returns the served version or None."""
    found = served_version(serving_base_dir) if serving_base_dir else None
    if found is None:
        os.makedirs(baseline_model.path, exist_ok=True)
        baseline_model.metadata[names.META_BASELINE] = 0
        print(f"latest_pushed_model: no served model under {serving_base_dir!r}; no baseline (first run)")
        return None
    version, path = found
    with staging.staged_dir(baseline_model.path) as folder:
        shutil.copytree(path, os.path.join(folder, names.SERVING_MODEL_DIR))
    baseline_model.metadata.update({names.META_BASELINE: 1, names.META_PUSHED_VERSION: version,
                                    names.META_PUSHED_DESTINATION: path})
    try:
        record = read_push_record(path) or {}
    except PushError as e:
        print(f"latest_pushed_model: warning: {e}")
        record = {}
    for key in ("blessed_metrics", "run"):
        if key in record:
            baseline_model.metadata[f"pushed_{key}"] = record[key]
    print(f"latest_pushed_model: baseline is version {version} at {path}")
    return version
