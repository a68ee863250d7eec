"""Atomic, idempotent pushes of a SavedModel into a TF Serving model base path.

Pure file operations: no TensorFlow import, so the push step starts fast.

* A version is built in a hidden, leased staging folder and renamed to its number, so TF
  Serving never sees half a version; leftovers of killed pushes are removed once stale.
* Pushes of the same model (same fingerprint) take turns through a crash-surviving lock, so
  a retry racing its first attempt reuses that attempt's version instead of adding one.
* Version numbers follow TF Serving's own rule (``tfx_kfp.serving.versions``), shared with
  our server.
"""

import hashlib
import json
import math
import os
import shutil
import time
from typing import Dict, Optional, Tuple

from kfp.dsl import Input, Markdown, Metrics, Output

from tfx_kfp.components import names
from tfx_kfp.components.types import InfraBlessing, Model, ModelBlessing, PushedModel
from tfx_kfp.runtime import lease, metadata, staging
from tfx_kfp.runtime.errors import PushError
from tfx_kfp.serving.versions import INT64_MAX, parse_version

PUSH_RECORD = os.path.join("assets.extra", "tfx_kfp_push.json")
# In the base path (TF Serving ignores names that are not numbers): what the last Pusher that ran did,
# read by scripts/kind/push_outcome.py ("pushed" or "already-pushed", the version, the run). A refusal
# writes nothing: the store stays as it was, exactly as when a dsl.If gate skips the Pusher.
LAST_PUSH_RECORD = ".tfx_kfp_last_push.json"
# How long a push waits while another live push of the same model (a racing retry) finishes.
SAME_MODEL_WAIT_S = 3600.0


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
    """Version folders under ``base_dir``, by the number TF Serving reads from their names."""
    if not os.path.isdir(base_dir):
        return {}
    found = {}
    for name in sorted(os.listdir(base_dir)):
        version = parse_version(name)
        if version is not None and os.path.isdir(os.path.join(base_dir, name)):
            found[version] = os.path.join(base_dir, name)
    return found


def read_push_record(version_dir: str) -> Optional[dict]:
    """The push record of a version (None if it has none); PushError naming the file if unreadable."""
    path = os.path.join(version_dir, PUSH_RECORD)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError) as e:  # ValueError covers JSON and UTF-8 decoding
        raise PushError(f"{path}: unreadable push record: {e}") from e
    if not isinstance(record, dict):
        raise PushError(f"{path}: a push record must be a JSON object, got {type(record).__name__}")
    return record


def _version_with_fingerprint(base_dir: str, fingerprint: str) -> Optional[int]:
    for version, path in sorted(existing_versions(base_dir).items(), reverse=True):
        try:
            record = read_push_record(path)
        except PushError as e:  # a damaged record cannot match; it must not block every later push
            print(f"pusher: warning: {e}; version {version} is not considered a previous push of this model")
            continue
        if record and record.get("fingerprint") == fingerprint:
            return version
    return None


def next_version(base_dir: str) -> int:
    """The number of a new version: now in seconds, or newer than every version TF Serving sees."""
    versions = existing_versions(base_dir)
    if not versions:
        return int(time.time())
    newest = max(versions)
    if newest >= INT64_MAX:
        raise PushError(f"{versions[newest]}: version {newest} is the largest TF Serving accepts "
                        f"(a signed 64-bit integer), so no newer version can be numbered; "
                        f"rename or remove this version folder")
    return max(int(time.time()), newest + 1)


def _publish(folder: str, base_dir: str) -> Tuple[int, str]:
    """Renames ``folder`` to the next free version; another push may take a number meanwhile."""
    version = next_version(base_dir)
    while True:
        target = os.path.join(base_dir, str(version))
        if version in existing_versions(base_dir):  # e.g. taken under another spelling ("0042")
            version = next_version(base_dir)
            continue
        try:
            os.rename(folder, target)
            return version, target
        except OSError:
            if not os.path.exists(target):
                raise
            version = next_version(base_dir)


def push_saved_model(saved_model_dir: str, base_dir: str, *, record: Optional[dict] = None,
                     extra_files: Optional[Dict[str, str]] = None,
                     wait_s: float = SAME_MODEL_WAIT_S) -> Tuple[int, str, bool]:
    """Copies ``saved_model_dir`` to ``base_dir/<version>`` atomically.

    Args:
        saved_model_dir: The SavedModel to push.
        base_dir: The model base path TF Serving watches.
        wait_s: How long to wait while another live push of the same model holds its lock.

    Returns:
        (version, version path, whether a new version was created). A model already pushed
        (same fingerprint) returns its existing version.
    """
    if not os.path.exists(os.path.join(saved_model_dir, "saved_model.pb")):
        raise PushError(f"{saved_model_dir}: no saved_model.pb: expected a SavedModel exported by run_fn")
    staging.make_dirs(base_dir)
    staging.remove_stale(base_dir)
    fingerprint = model_fingerprint(saved_model_dir)
    already = _version_with_fingerprint(base_dir, fingerprint)
    if already is not None:
        return already, os.path.join(base_dir, str(already)), False
    lock = os.path.join(base_dir, f".push-{fingerprint[:16]}{staging.LEASE_SUFFIX}")
    with lease.held(lock, wait_s=wait_s) as turn:
        if turn is None:
            raise PushError(f"{lock}: another push of this model still holds this lock after {wait_s:.0f} s "
                            f"(owner: {lease.read_owner(lock)}); it is alive, so it was left alone")
        already = _version_with_fingerprint(base_dir, fingerprint)  # the push we waited for made it
        if already is not None:
            return already, os.path.join(base_dir, str(already)), False
        with staging.staging_dir(os.path.join(base_dir, "push")) as folder:
            shutil.copytree(saved_model_dir, folder, dirs_exist_ok=True)
            for relative, source in (extra_files or {}).items():  # e.g. the warmup requests, in assets.extra/
                os.makedirs(os.path.dirname(os.path.join(folder, relative)), exist_ok=True)
                shutil.copyfile(source, os.path.join(folder, relative))
            staging.write_file(os.path.join(folder, PUSH_RECORD), json.dumps(
                {**(record or {}), "fingerprint": fingerprint, "source": os.path.abspath(saved_model_dir),
                 "pushed_at": time.time()}))
            staging.set_published_modes(folder)  # copies keep their sources' modes; makedirs obeys the umask
            version, target = _publish(folder, base_dir)
    return version, target, True


def is_blessed(blessing_path: str, metadata: dict) -> bool:
    if names.META_BLESSED in metadata:
        return int(metadata[names.META_BLESSED]) == 1  # True/False as written, 1/0 after ML Metadata
    return os.path.exists(os.path.join(blessing_path, names.BLESSED_FILE))


def _write_report(report, model, *, pushed: bool, path=None, version=None, reason: str) -> None:
    from tfx_kfp.runtime.reports import write_report
    from tfx_kfp.reports import render_push_markdown

    signatures = metadata.value(model.metadata or {}, "signatures") or {}
    write_report(report, render_push_markdown(pushed=pushed, pushed_path=path, version=version,
                                              signatures=signatures, reason=reason))


def served_version(base_dir: str) -> Optional[int]:
    """The version TF Serving serves now: the newest version folder holding a SavedModel."""
    for version, path in sorted(existing_versions(base_dir).items(), reverse=True):
        if any(os.path.isfile(os.path.join(path, f)) for f in ("saved_model.pb", "saved_model.pbtxt")):
            return version
    return None


def _record(blessing, evaluation_metrics, source_run: str, replaced: Optional[int]) -> dict:
    """What the next run's baseline lookup reads back: blessing, metrics, run, the version replaced."""
    finite = {k: v for k, v in dict(evaluation_metrics.metadata if evaluation_metrics else {}).items()
              if isinstance(v, (int, float)) and math.isfinite(v)}
    return {"blessing": {k: metadata.value(blessing.metadata or {}, k) for k in (blessing.metadata or {})},
            "metrics": finite, "run": source_run, "replaced_version": replaced}


def _infra_blessed(infra_blessing) -> bool:
    if infra_blessing is None:
        return True  # not validated in the serving stack: the Evaluator's blessing decides
    return metadata.flag(infra_blessing.metadata or {}, names.META_BLESSED) or \
        os.path.exists(os.path.join(infra_blessing.path, names.INFRA_BLESSED_FILE))


def _warmup_file(infra_blessing) -> Dict[str, str]:
    """The InfraValidator's validated requests, to go into the version where TF Serving replays them on load."""
    source = os.path.join(infra_blessing.path, names.WARMUP_FILE) if infra_blessing is not None else ""
    return {os.path.join("assets.extra", names.WARMUP_FILE): source} if source and os.path.isfile(source) else {}


def write_last_push(base_dir: str, outcome: str, version: int, source_run: str, reason: str) -> None:
    """Records what this Pusher did in ``base_dir/LAST_PUSH_RECORD`` (atomically, mode 0644)."""
    staging.make_dirs(base_dir)
    staging.write_file(os.path.join(base_dir, LAST_PUSH_RECORD), json.dumps(
        {"outcome": outcome, "version": version, "run": source_run, "reason": reason, "at": time.time()}))


def run(*, model: Input[Model], blessing: Input[ModelBlessing], serving_base_dir: str,
        pushed_model: Output[PushedModel], report: Output[Markdown],
        evaluation_metrics: Input[Metrics], source_run: str, infra_blessing: Input[InfraBlessing]) -> None:
    """The ``pusher`` component's body (arguments as documented there).

    Pushes ``model`` if ``blessing`` says so; records the outcome in ``pushed_model.metadata`` and,
    next to the pushed version, the push record the next run's baseline lookup reads.
    """
    if not serving_base_dir:
        raise PushError("pusher: serving_base_dir is required: the model base path TF Serving watches")
    os.makedirs(pushed_model.path, exist_ok=True)
    refusal = ("the evaluator did not bless the model" if not is_blessed(blessing.path, dict(blessing.metadata or {}))
               else "the InfraValidator did not bless the model" if not _infra_blessed(infra_blessing) else None)
    if refusal:
        pushed_model.metadata[names.META_PUSHED] = 0
        _write_report(report, model, pushed=False, reason=refusal)
        print(f"pusher: {refusal}; nothing pushed")
        return
    replaced = served_version(serving_base_dir)
    version, target, created = push_saved_model(
        os.path.join(model.path, names.SERVING_MODEL_DIR), serving_base_dir,
        record=_record(blessing, evaluation_metrics, source_run, replaced), extra_files=_warmup_file(infra_blessing))
    pushed_model.metadata.update({
        names.META_PUSHED: 1,
        names.META_PUSHED_DESTINATION: target,
        names.META_PUSHED_VERSION: version,
        names.META_REPLACED_VERSION: replaced or 0,
    })
    if not created:
        reason = f"this model was already pushed as version {version}"
    else:
        reason = "blessed by the evaluator" + (f"; replaces version {replaced}" if replaced else "; first version")
    _write_report(report, model, pushed=True, path=target, version=version, reason=reason)
    write_last_push(serving_base_dir, "pushed" if created else "already-pushed", version, source_run, reason)
    print(f"pusher: {'pushed' if created else 'already pushed as'} version {version} at {target}")
