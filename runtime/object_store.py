"""Artifacts in object storage when Beam runs outside this task.

On a KFP cluster an artifact's ``path`` lies inside the task's pod (``/minio/...``,
``/s3/...``, ``/gcs/...``): KFP's launcher downloads inputs there before the
executor starts and uploads outputs from there after it exits 0. Beam workers on
Flink, Spark or Dataflow run in other pods, so a path there would make each worker
read and write its own disk. When the artifact lives in object storage and the Beam
runner is not in this process, executors therefore hand TFX the object-store URI
(``minio://`` spelled ``s3://``, the scheme Beam and TensorFlow know), and both
filesystems that TFX uses must open it: Beam's own (S3 through boto3, GCS) and
TensorFlow's ``tf.io.gfile`` (``gs://`` built in, ``s3://`` from tensorflow-io).

Or, where the buckets are mounted as folders in the task and in the Beam workers alike
(s3fs-fuse here; a CSI driver's volume on Kubernetes), ``TFX_KFP_OBJECT_STORE_MOUNT`` names
the folder holding one folder per bucket, and TFX gets ``<mount>/<bucket>/<key>``: plain
files for every filesystem, so no tensorflow-io (the current stack has none) and no S3
settings in the task.

Settings: Beam's ``--s3_endpoint_url``, ``--s3_access_key_id``,
``--s3_secret_access_key``, ``--s3_region_name``, ``--s3_verify`` in
``beam_pipeline_args``, else the standard AWS environment variables (which is how a
KFP task gets the launcher's MinIO credentials: the ``mlpipeline-minio-artifact``
secret mounted as env; the launcher's own config is not visible to the executor).

Write guarantee: object storage has no atomic rename of a prefix; a single object
is visible whole or not at all. An output is written straight to the task's own
output URI after anything left there by an earlier try is deleted, and it is read
by a later step only after KFP publishes it, which the launcher does only once the
executor has exited 0. Data files inside it are committed by Beam's file sinks
(written under a temporary prefix, copied into place at finalisation).
"""

import atexit
import os
import shutil
import tempfile
from typing import Dict, List, Optional

from tfx_kfp.runtime.errors import InputError

# Object-store schemes KFP uses for pipeline roots, and what Beam and TensorFlow call them.
OBJECT_STORE_SCHEMES = {"s3": "s3", "minio": "s3", "gs": "gs"}
# Runners whose workers are threads or subprocesses of this task, on its filesystem.
LOCAL_RUNNERS = {"directrunner", "direct", "bundlebasedirectrunner", "swappingrunner", "fnapirunner",
                 "tfx_kfp.runtime.beam_warm_pool.warmpoolrunner"}  # its workers: processes on this machine
# Beam's S3 options, each with the environment variable read when the option is not given.
S3_OPTION_ENV = {
    "s3_endpoint_url": "AWS_ENDPOINT_URL",
    "s3_access_key_id": "AWS_ACCESS_KEY_ID",
    "s3_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "s3_region_name": "AWS_REGION",
}
DEFAULT_REGION = "us-east-1"
# The folder where each bucket is mounted as ``<folder>/<bucket>`` (the same in the task and the workers).
MOUNT_ENV = "TFX_KFP_OBJECT_STORE_MOUNT"


def mount_root() -> Optional[str]:
    """The folder ``TFX_KFP_OBJECT_STORE_MOUNT`` names, or None when it is unset or empty."""
    root = os.environ.get(MOUNT_ENV, "").strip()
    if not root:
        return None
    if not os.path.isabs(root):
        raise InputError(f"${MOUNT_ENV}", "must be an absolute path: the folder where each bucket is mounted as "
                         "<folder>/<bucket>, the same in the task and in the Beam workers", received=root)
    return os.path.normpath(root)


def object_store_uri(uri: Optional[str]) -> Optional[str]:
    """Where Beam and TensorFlow open ``uri``: its folder under the mount (``mount_root``) when the
    buckets are mounted, else ``uri`` with the scheme they use; None when it is not in object storage."""
    scheme, sep, rest = (uri or "").partition("://")
    if not sep or scheme not in OBJECT_STORE_SCHEMES:
        return None
    root = mount_root()
    if root is not None:
        bucket, _, key = rest.partition("/")
        if not bucket or bucket in (".", ".."):
            raise InputError(uri, "an object-store URI must name a bucket: <scheme>://<bucket>/<key>")
        return os.path.join(root, bucket, *[part for part in key.split("/") if part])
    return f"{OBJECT_STORE_SCHEMES[scheme]}://{rest}"


def _options(beam_pipeline_args: Optional[List[str]]):
    from apache_beam.options.pipeline_options import PipelineOptions

    return PipelineOptions(list(beam_pipeline_args or []))


def runs_remotely(beam_pipeline_args: Optional[List[str]]) -> bool:
    """True when Beam workers may run where this task's files are not (any runner but the
    in-process ones, unless the portable workers loop back into this process)."""
    from apache_beam.options.pipeline_options import PortableOptions, StandardOptions

    options = _options(beam_pipeline_args)
    runner = options.view_as(StandardOptions).runner
    if runner is None or str(runner).lower() in LOCAL_RUNNERS:
        return False
    return (options.view_as(PortableOptions).environment_type or "").upper() != "LOOPBACK"


def s3_settings(beam_pipeline_args: Optional[List[str]]) -> Dict[str, object]:
    """Beam's S3 options: those given in ``beam_pipeline_args``, else from the environment."""
    from apache_beam.options.pipeline_options import S3Options

    given = _options(beam_pipeline_args).view_as(S3Options).get_all_options(drop_default=True)
    settings = {key: given.get(key) or os.environ.get(env) for key, env in S3_OPTION_ENV.items()}
    settings["s3_verify"] = given.get("s3_verify")
    return {key: value for key, value in settings.items() if value}


def filesystem_args(beam_pipeline_args: Optional[List[str]]) -> List[str]:
    """``beam_pipeline_args`` plus the S3 options it lacks, for a remote runner; also makes
    ``s3://`` open in this process through ``tf.io.gfile``."""
    args = list(beam_pipeline_args or [])
    if not runs_remotely(args) or mount_root() is not None:
        return args
    settings = s3_settings(args)
    given = " ".join(args)
    args += [f"--{key}={value}" for key, value in settings.items() if f"--{key}" not in given]
    use_s3_in_tensorflow(settings)
    return args


def open_object_store(settings: Dict[str, object]) -> None:
    """Lets this process open object-store URIs: Beam's filesystems outside a pipeline, and TensorFlow."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    FileSystems.set_options(PipelineOptions([f"--{key}={value}" for key, value in settings.items()]))
    use_s3_in_tensorflow(settings)


def use_s3_in_tensorflow(settings: Dict[str, object], required: bool = False) -> None:
    """Registers tensorflow-io's ``s3://`` filesystem with ``tf.io.gfile``, where the stack has it;
    ``required``: raises where it does not (TensorFlow is about to be given an ``s3://`` URI).

    tensorflow-io reads its S3 settings only from environment variables, hence the
    writes to ``os.environ`` (no API takes them).
    """
    endpoint = settings.get("s3_endpoint_url")
    if endpoint:
        os.environ["S3_ENDPOINT"] = str(endpoint)
    for key in ("s3_access_key_id", "s3_secret_access_key", "s3_region_name"):
        if settings.get(key):
            os.environ[S3_OPTION_ENV[key]] = str(settings[key])
    os.environ.setdefault("AWS_REGION", DEFAULT_REGION)
    if settings.get("s3_verify") is not None:
        os.environ["S3_VERIFY_SSL"] = "1" if str(settings["s3_verify"]).lower() not in ("0", "false") else "0"
    try:
        import tensorflow_io  # registers s3:// with tf.io.gfile
    except ModuleNotFoundError as missing:
        # The current stack (TensorFlow 2.21) has no tensorflow-io: its last release pins TF < 2.17.
        # Without an s3:// URI for TensorFlow (gs:// is built in; a mounted bucket is a folder) none is needed.
        if not required:
            return
        raise RuntimeError(
            "TensorFlow can open s3:// only through tensorflow-io, which this stack lacks (tensorflow-io's "
            "last release needs TensorFlow < 2.17): for a remote Beam runner with artifacts in object storage, "
            f"mount the buckets in the task and the workers and set {MOUNT_ENV} to the folder holding them "
            "(docs/scale.md, \"Object storage as a folder\")") from missing

    if tensorflow_io.__version__ == ABORTING_TENSORFLOW_IO and _exit_before_tensorflow_io_aborts not in _EXIT_GUARD:
        _EXIT_GUARD.append(_exit_before_tensorflow_io_aborts)
        atexit.register(_exit_before_tensorflow_io_aborts)


_EXIT_GUARD: list = []
ABORTING_TENSORFLOW_IO = "0.37.1"  # the release with tensorflow/io#2039; the guard applies to it only


def _exit_before_tensorflow_io_aborts() -> None:
    """Ends the process before C++ static destructors run.

    tensorflow-io 0.37.1 (the last release; the only one that works with TensorFlow 2.16) aborts
    with exit code 134 at process exit once its S3 filesystem was used ("pure virtual method
    called", tensorflow/io#2039; fixed by tensorflow/io#2120 after that release), which would fail
    a KFP task that succeeded. Runs as the last registered atexit handler, i.e. first: flushes
    logging and the standard streams and exits with 1 if an uncaught exception ended the program
    (Python records it in ``sys.last_type``), else 0. An explicit ``sys.exit(n)`` is not visible
    here; KFP's ``executor_main`` makes none.
    """
    import logging
    import sys

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(1 if getattr(sys, "last_type", None) is not None else 0)


def remote_uri(kfp_artifact, beam_pipeline_args: Optional[List[str]]) -> Optional[str]:
    """The URI TFX must use for ``kfp_artifact`` when Beam runs remotely, else None."""
    uri = object_store_uri(getattr(kfp_artifact, "uri", None))
    return uri if uri and runs_remotely(beam_pipeline_args) else None


def location(kfp_artifact, beam_pipeline_args: Optional[List[str]] = None) -> str:
    """Where this task reads ``kfp_artifact``: its object-store URI when Beam runs remotely, else its path."""
    return remote_uri(kfp_artifact, beam_pipeline_args) or kfp_artifact.path


def tfx_uri(kfp_artifact, local_uri: Optional[str], beam_pipeline_args: Optional[List[str]]) -> str:
    """The URI for the TFX artifact: ``local_uri`` (an output's staging folder) or the artifact's
    path, unless Beam runs remotely on an artifact in object storage. An output's object-store
    prefix is emptied first, so no file of an earlier try is mistaken for this one's."""
    remote = remote_uri(kfp_artifact, beam_pipeline_args)
    if remote is None:
        return local_uri or kfp_artifact.path
    if mount_root() is not None:
        if local_uri is not None and os.path.lexists(remote):
            shutil.rmtree(remote)
        return remote
    import tensorflow as tf

    filesystem_args(beam_pipeline_args)
    if remote.startswith("s3://"):
        use_s3_in_tensorflow(s3_settings(beam_pipeline_args), required=True)
    if local_uri is not None and tf.io.gfile.exists(remote):
        tf.io.gfile.rmtree(remote)
    return remote


def _copy_to_local(remote: str, settings: Dict[str, object], recursive: bool) -> str:
    """Copies the objects under ``remote`` (``/**``) or directly in it (``/*``) to a new local folder.

    Beam's match lists objects only; ``tf.io.gfile.walk`` would also list the empty "folders"
    some stores keep (SeaweedFS does, for TFX's deleted temp folders), which cannot be copied.
    """
    from apache_beam.io.filesystems import FileSystems

    open_object_store(settings)
    folder = tempfile.mkdtemp(prefix="tfx-kfp-object-store-")
    for match in FileSystems.match([f"{remote}/{'**' if recursive else '*'}"])[0].metadata_list:
        target = os.path.join(folder, match.path[len(remote):].lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with FileSystems.open(match.path) as source, open(target, "wb") as f:
            f.write(source.read())
    return folder


def local_mirror(uri: str, beam_pipeline_args: Optional[List[str]] = None) -> str:
    """``uri`` itself when local; for an object-store folder, a local copy of the files directly in it
    (for checks that read every input file anyway, e.g. CSV validation)."""
    remote = object_store_uri(uri)
    if remote is None or mount_root() is not None:
        return remote or uri
    return _copy_to_local(remote.rstrip("/"), s3_settings(beam_pipeline_args), recursive=False)


def readable_path(kfp_artifact, beam_pipeline_args: Optional[List[str]] = None) -> str:
    """A local folder holding ``kfp_artifact``: its path, or a copy of its object-store tree when
    Beam runs remotely (for the small artifacts reports read: statistics, schemas)."""
    remote = remote_uri(kfp_artifact, beam_pipeline_args)
    if remote is None:
        return kfp_artifact.path
    if mount_root() is not None:
        return remote
    return _copy_to_local(remote.rstrip("/"), s3_settings(beam_pipeline_args), recursive=True)


def exit_now_if_tensorflow_io_loaded(status: int) -> None:
    """Ends a process that may have used tensorflow-io with ``status``, before its exit-time abort.

    For processes with their own exit status (the test runner): the atexit guard above cannot know it,
    and other exit handlers may already crash into tensorflow/io#2039. Does nothing when tensorflow-io
    was never imported or is not the aborting release.
    """
    import sys

    module = sys.modules.get("tensorflow_io")
    if module is None or getattr(module, "__version__", None) != ABORTING_TENSORFLOW_IO:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)
