"""Runs TFX executors on KFP artifacts.

TFX executors take ``{name: [tfx Artifact]}`` dicts whose URIs they read and
write. We point those URIs at ``artifact.path`` (a local path on every KFP
backend: object storage is mounted there), never at ``artifact.uri``, which may
be a ``minio://`` URI that ``tf.io.gfile`` cannot open — unless Beam runs remotely,
where ``object_store`` decides (see there). TFX artifact properties
travel in KFP artifact metadata.
"""

import functools
import json
import os
import sys
import tempfile
import uuid
from typing import Any, Dict, List, Optional

from absl import flags
from tfx.dsl.components.base import base_beam_executor, base_executor
from tfx.types import artifact_utils, standard_artifacts

from tfx_kfp.runtime import properties as names

from tfx_kfp.runtime import object_store
from tfx_kfp.runtime import beam_defaults


def _split_names_on_disk(path: str) -> List[str]:
    if not os.path.isdir(path):
        return []
    return sorted(d[len("Split-"):] for d in os.listdir(path) if d.startswith("Split-"))


def split_names(kfp_artifact) -> List[str]:
    """Split names of an input artifact: from its metadata, else from its ``Split-*`` folders."""
    encoded = kfp_artifact.metadata.get(names.SPLIT_NAMES)
    if encoded:
        return artifact_utils.decode_split_names(encoded)
    return _split_names_on_disk(kfp_artifact.path)


def to_tfx(type_name: str, kfp_artifact, uri: Optional[str] = None, beam_pipeline_args: Optional[List[str]] = None):
    """Makes a TFX artifact of ``type_name`` for a KFP artifact.

    Args:
        type_name: A class name in ``tfx.types.standard_artifacts``, e.g. "Examples".
        kfp_artifact: The KFP artifact (input or output).
        uri: Where the TFX executor reads or writes; defaults to ``kfp_artifact.path``.
        beam_pipeline_args: The Beam args of the executor; with a remote runner, an artifact in
            object storage gets its object-store URI instead (``object_store.tfx_uri``).

    Returns:
        The TFX artifact, with the properties found in the KFP metadata set.
    """
    artifact = getattr(standard_artifacts, type_name)()
    artifact.uri = object_store.tfx_uri(kfp_artifact, uri, beam_pipeline_args)
    metadata = dict(kfp_artifact.metadata or {})
    properties = artifact.PROPERTIES or {}
    if names.SPLIT_NAMES in properties and uri is None:  # an input: from its metadata or its Split-* folders
        found = split_names(kfp_artifact)
        if found:
            artifact.split_names = artifact_utils.encode_split_names(found)
    for key in (names.SPAN, names.VERSION):
        if key in properties and metadata.get(key) is not None:
            setattr(artifact, key, int(metadata[key]))
    return artifact


def export_properties(tfx_artifact, kfp_artifact) -> None:
    """Copies a TFX artifact's properties and custom properties into KFP metadata."""
    for key in tfx_artifact.PROPERTIES or {}:
        if tfx_artifact.has_property(key):
            kfp_artifact.metadata[key] = getattr(tfx_artifact, key)
    for key in tfx_artifact.mlmd_artifact.custom_properties:
        value = tfx_artifact.get_custom_property(key)
        if isinstance(value, (str, int, float, bool)):
            kfp_artifact.metadata[key] = value


def _in_process_pipeline(beam_pipeline_args: List[str]):
    import apache_beam as beam

    return beam.Pipeline(argv=beam_pipeline_args)


def beam_context(beam_pipeline_args: Optional[List[str]]) -> base_beam_executor.BaseBeamExecutor.Context:
    """An executor context for Beam-based TFX executors; give it ``beam_defaults.resolve``'s args.

    Given Beam args, TFX's ``BaseBeamExecutor`` packages TFX for remote workers unless the args
    already say how they get it (``dependency_utils.make_beam_dependency_flags``: it copies TFX's
    installed tree, about 4,000 files, and runs ``setup.py sdist``: 1-3 s per stage), and stages
    the user module's wheel for them. The DirectRunner's workers (this process, or in
    multi-processing mode its subprocesses, started from this interpreter) run this environment
    and install nothing staged, so for them the args go to TFX's ``make_beam_pipeline_fn`` hook
    instead, and to absl's flags as TFX would give them (tfx-bsl reads its batching flag there).
    Subprocess workers still get the user module: TFX pip-installs its wheel into a folder they
    import from (``udf_utils.TempPipInstallContext``), whatever the args.
    """
    args = object_store.filesystem_args(beam_pipeline_args or beam_defaults.IN_MEMORY_ARGS)
    context = functools.partial(base_beam_executor.BaseBeamExecutor.Context,
                                tmp_dir=tempfile.mkdtemp(prefix="tfx-kfp-beam-"), unique_id=uuid.uuid4().hex[:12])
    if not beam_defaults.workers_on_this_machine(args):
        return context(beam_pipeline_args=args)
    flags.FLAGS([sys.argv[0], *args], known_only=True)
    return context(beam_pipeline_args=[], make_beam_pipeline_fn=functools.partial(_in_process_pipeline, args))


def plain_context() -> base_executor.BaseExecutor.Context:
    """An executor context for TFX executors that do not run Beam."""
    return base_executor.BaseExecutor.Context(
        tmp_dir=tempfile.mkdtemp(prefix="tfx-kfp-"), unique_id=uuid.uuid4().hex[:12]
    )


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def proto_json(message) -> str:
    from google.protobuf import json_format

    return json_format.MessageToJson(message, preserving_proto_field_name=True)


def exec_properties(**properties: Any) -> Dict[str, Any]:
    """Drops None values: TFX executors treat a missing key as "use the default"."""
    return {k: v for k, v in properties.items() if v is not None}
