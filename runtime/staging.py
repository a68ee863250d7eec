"""Atomic outputs: build in a sibling temporary folder, rename into place on success.

A failed step then never leaves a half-written output where a later step, or a
TF Serving watcher, could pick it up.
"""

import contextlib
import os
import shutil
import uuid
from typing import Iterator


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


@contextlib.contextmanager
def staged_dir(final_path: str) -> Iterator[str]:
    """Yields a fresh folder next to ``final_path``; renames it there on success.

    Args:
        final_path: The folder the finished output must appear at.

    Yields:
        The temporary folder to write into (same filesystem, so the rename is atomic).
    """
    parent = os.path.dirname(os.path.abspath(final_path)) or "."
    os.makedirs(parent, exist_ok=True)
    staging = os.path.join(parent, f".{os.path.basename(final_path)}.partial-{uuid.uuid4().hex[:8]}")
    os.makedirs(staging)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove(final_path)
    os.replace(staging, final_path)
