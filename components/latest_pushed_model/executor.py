"""Finds the served model version (the newest that loads) and copies it into the baseline artifact."""

import os
import shutil
import threading
from typing import Dict, Optional, Tuple

from kfp.dsl import Output

from tfx_kfp.components import names
from tfx_kfp.components.infra_validator.load_check import MAX_LOADING_TIME_S
from tfx_kfp.components.pusher.executor import existing_versions, read_push_record
from tfx_kfp.components.types import Model
from tfx_kfp.runtime import staging
from tfx_kfp.runtime.errors import PushError

SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")


def load_error(path: str, timeout_s: float = MAX_LOADING_TIME_S) -> str:
    """Why the model server could not load the version at ``path`` (its own loader); empty when it loads."""
    from tfx_kfp.serving.models import servable

    found = []

    def load() -> None:
        try:
            servable.load_version("baseline", 0, path, servable.SessionOptions()).close()
            found.append("")
        except Exception as error:  # noqa: BLE001 - any load failure is the finding
            found.append(f"{type(error).__name__}: {error}")

    # A load that never returns (an init op that blocks) is given up on; its thread is left behind.
    worker = threading.Thread(target=load, name=f"baseline load {path}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    return found[0] if found else f"did not load within {timeout_s:g} s"


def newest_loadable(serving_base_dir: str) -> Tuple[Optional[int], Dict[int, str]]:
    """(the newest version the server loads, or None; newer versions with a SavedModel that do not -> why)."""
    skipped: Dict[int, str] = {}
    for version, path in sorted(existing_versions(serving_base_dir).items(), reverse=True):
        if not any(os.path.isfile(os.path.join(path, f)) for f in SAVED_MODEL_FILES):
            continue  # not a SavedModel (yet): TF Serving does not consider it either
        error = load_error(path)
        if not error:
            return version, skipped
        skipped[version] = error
        print(f"latest_pushed_model: warning: version {version} at {path} does not load, skipped as a baseline: "
              f"{error}")
    return None, skipped


def run(*, serving_base_dir: str, baseline_model: Output[Model]) -> Optional[int]:
    """The ``latest_pushed_model`` component's body; returns the served version or None."""
    version, skipped = newest_loadable(serving_base_dir) if serving_base_dir else (None, {})
    if skipped:
        baseline_model.metadata[names.META_SKIPPED_VERSIONS] = {str(v): why for v, why in skipped.items()}
    if version is None:
        os.makedirs(baseline_model.path, exist_ok=True)
        baseline_model.metadata[names.META_BASELINE] = 0
        print(f"latest_pushed_model: no served model under {serving_base_dir!r} that loads; no baseline"
              + (" (first run)" if not skipped else ""))
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
