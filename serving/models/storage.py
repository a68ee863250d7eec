"""Model base paths: local directories (``os``, no TensorFlow import to poll) or URIs through
TensorFlow's file systems, as TF Serving reads them (``gs://``; ``s3://`` needs tensorflow-io).
"""

import os
from typing import Dict, Optional

from tfx_kfp.serving.protocol.errors import InvalidArgument
from tfx_kfp.serving.versions import parse_version

__all__ = ["check_base_path", "is_dir", "list_versions"]


def _is_uri(path: str) -> bool:
    return "://" in path


def check_base_path(name: str, base_path: str) -> None:
    """InvalidArgument (naming what to install) when TensorFlow has no file system for the
    base path's scheme."""
    if not _is_uri(base_path):
        return
    import tensorflow as tf

    scheme = base_path.split("://", 1)[0]
    try:
        tf.io.gfile.exists(base_path)
    except tf.errors.UnimplementedError:
        hint = (" TensorFlow 2.16 has no s3:// support built in; install tensorflow-io "
                "(which registers it) or serve from a local or gs:// path."
                if scheme == "s3" else "")
        raise InvalidArgument(f"Model {name}: base path {base_path}: TensorFlow has no file "
                              f"system for the {scheme}:// scheme.{hint}") from None
    except tf.errors.OpError:
        pass  # exists() failing for other reasons (credentials, network) shows at load time


def is_dir(path: str) -> bool:
    """True when ``path`` is a directory (local, or through TensorFlow's file systems)."""
    if not _is_uri(path):
        return os.path.isdir(path)
    import tensorflow as tf

    try:
        return tf.io.gfile.isdir(path)
    except tf.errors.OpError:
        return False


def list_versions(base_path: str) -> Optional[Dict[int, str]]:
    """Version number -> directory under ``base_path`` (None when unreadable), for the names
    TF Serving parses as versions; of ``"7"`` and ``"007"`` the later in name order wins."""
    if not base_path or not is_dir(base_path):
        return None
    try:
        if _is_uri(base_path):
            import tensorflow as tf

            children = [c.rstrip("/") for c in tf.io.gfile.listdir(base_path)]
        else:
            children = os.listdir(base_path)
    except Exception:  # noqa: BLE001 - an unreadable base path is polled again later
        return None
    found: Dict[int, str] = {}
    for child in sorted(children):
        number = parse_version(child)
        path = base_path.rstrip("/") + "/" + child
        if number is not None and is_dir(path):
            found[number] = path
    return found
