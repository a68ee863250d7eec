"""Atomic, idempotent pushes of a SavedModel into a TF Serving model base path.

Pure file operations: no TensorFlow import, so the push step starts fast.
"""

import hashlib
import json
import os
import shutil
import time
import uuid
from typing import Dict, Optional, Tuple

from tfx_kfp.components import names
from tfx_kfp.runtime.errors import PushError

SERVING_SUBDIR = "Format-Serving"
BLESSED_FILE = "BLESSED"
PUSH_RECORD = os.path.join("assets.extra", "tfx_kfp_push.json")


def model_fingerprint(saved_model_dir: str) -> str:
    """SHA-256 over every file's relative path and bytes, in a stable order."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(saved_model_dir):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, saved_model_dir).encode() + b"\0")
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def existing_versions(base_dir: str) -> Dict[int, str]:
    """Numeric version folders under ``base_dir`` (the ones TF Serving would load)."""
    if not os.path.isdir(base_dir):
        return {}
    return {int(name): os.path.join(base_dir, name) for name in os.listdir(base_dir)
            if name.isdigit() and os.path.isdir(os.path.join(base_dir, name))}


def _version_with_fingerprint(base_dir: str, fingerprint: str) -> Optional[int]:
    for version, path in sorted(existing_versions(base_dir).items(), reverse=True):
        record = os.path.join(path, PUSH_RECORD)
        if os.path.exists(record):
            with open(record) as f:
                if json.load(f).get("fingerprint") == fingerprint:
                    return version
    return None


def is_blessed(blessing_path: str, metadata: dict) -> bool:
    if names.META_BLESSED in metadata:
        return int(metadata[names.META_BLESSED]) == 1  # True/False as written, 1/0 after ML Metadata
    return os.path.exists(os.path.join(blessing_path, BLESSED_FILE))


def push_saved_model(saved_model_dir: str, base_dir: str) -> Tuple[int, str, bool]:
    """Copies ``saved_model_dir`` to ``base_dir/<version>`` atomically.

    Returns:
        (version, version path, whether a new version was created). A model already pushed
        (same fingerprint) returns its existing version.
    """
    if not os.path.exists(os.path.join(saved_model_dir, "saved_model.pb")):
        raise PushError(f"{saved_model_dir}: no saved_model.pb: expected a SavedModel exported by run_fn")
    os.makedirs(base_dir, exist_ok=True)
    fingerprint = model_fingerprint(saved_model_dir)
    already = _version_with_fingerprint(base_dir, fingerprint)
    if already is not None:
        return already, os.path.join(base_dir, str(already)), False
    # A non-numeric name: TF Serving ignores the folder until the rename.
    staging = os.path.join(base_dir, f".push-{uuid.uuid4().hex[:12]}")
    try:
        shutil.copytree(saved_model_dir, staging)
        os.makedirs(os.path.dirname(os.path.join(staging, PUSH_RECORD)), exist_ok=True)
        with open(os.path.join(staging, PUSH_RECORD), "w") as f:
            json.dump({"fingerprint": fingerprint, "source": os.path.abspath(saved_model_dir),
                       "pushed_at": time.time()}, f)
        version = max([int(time.time())] + [v + 1 for v in existing_versions(base_dir)])
        while True:
            target = os.path.join(base_dir, str(version))
            try:
                os.rename(staging, target)  # fails if another push took this version meanwhile
                return version, target, True
            except OSError:
                if not os.path.exists(target):
                    raise
                version += 1
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_report(report, model, *, pushed: bool, path=None, version=None, reason: str) -> None:
    from tfx_kfp.runtime.reports import write_report
    from tfx_kfp.reports import render_push_markdown

    from tfx_kfp.runtime import metadata

    signatures = metadata.value(model.metadata or {}, "signatures") or {}
    write_report(report, render_push_markdown(pushed=pushed, pushed_path=path, version=version,
                                              signatures=signatures, reason=reason))


def run(*, model, blessing, serving_base_dir, pushed_model, report):
    """Pushes ``model`` if ``blessing`` says so; records the outcome in ``pushed_model.metadata``."""
    if not serving_base_dir:
        raise PushError("pusher: serving_base_dir is required: the model base path TF Serving watches")
    os.makedirs(pushed_model.path, exist_ok=True)
    if not is_blessed(blessing.path, dict(blessing.metadata or {})):
        pushed_model.metadata[names.META_PUSHED] = 0
        _write_report(report, model, pushed=False, reason="the evaluator did not bless the model")
        print("pusher: model is not blessed; nothing pushed")
        return
    version, target, created = push_saved_model(os.path.join(model.path, SERVING_SUBDIR), serving_base_dir)
    pushed_model.metadata.update({
        names.META_PUSHED: 1,
        names.META_PUSHED_DESTINATION: target,
        names.META_PUSHED_VERSION: version,
    })
    reason = "blessed by the evaluator" if created else f"this model was already pushed as version {version}"
    _write_report(report, model, pushed=True, path=target, version=version, reason=reason)
    print(f"pusher: {'pushed' if created else 'already pushed as'} version {version} at {target}")
