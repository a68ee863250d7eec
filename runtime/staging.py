"""Atomic outputs: build under a hidden sibling name, rename into place on success.

A failed step then never leaves a half-written output where a later step, or a
TF Serving watcher, could pick it up. This is the one write-then-rename helper of
the runtime and the components (``serving/`` keeps its own: it must stay independent).

Every staging folder is named ``.<name>.partial-<random>`` and owned through a lease
(``runtime/lease.py``) held while it is being built, so a killed writer's leftovers are
told apart from a live writer's work and removed by ``remove_stale``.
"""

import contextlib
import fnmatch
import os
import shutil
import stat
import time
import uuid
from typing import Iterator, List, Union

from tfx_kfp.runtime import lease

STAGING_MARK = ".partial-"
LEASE_SUFFIX = ".lease"
# Names of staging entries: ours, and the Pusher's before they shared this helper.
STAGING_PATTERNS = (f".*{STAGING_MARK}*", ".push-*")
# Leftovers are removed only when untouched this long (and not owned by a live writer).
STALE_AFTER_S = 15 * 60.0
# What every published folder and file gets, whatever the umask: Argo's emissary executor runs each
# task's main container with umask 0 (argo-workflows v4.0.5 workflow/executor/osspecific/umask_linux.go),
# and the KFP launcher's downloaded inputs arrive as 0666, so modes are never left to the umask or copied.
DIR_MODE = 0o755
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def staging_path(final_path: str) -> str:
    """A fresh hidden sibling of ``final_path`` (same filesystem, so a rename onto it is atomic)."""
    parent = os.path.dirname(os.path.abspath(final_path))
    return os.path.join(parent, f".{os.path.basename(final_path)}{STAGING_MARK}{uuid.uuid4().hex[:12]}")


def set_published_modes(root: str) -> None:
    """Gives ``root`` and everything under it explicit modes: writable by the owner only, readable by all.

    Folders get ``DIR_MODE``, files ``FILE_MODE`` (``EXECUTABLE_MODE`` if the owner could execute them);
    symbolic links are left alone (their mode is not used).
    """
    os.chmod(root, DIR_MODE)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                continue
            if stat.S_ISDIR(info.st_mode):
                os.chmod(path, DIR_MODE)
            else:
                os.chmod(path, EXECUTABLE_MODE if info.st_mode & stat.S_IXUSR else FILE_MODE)


def make_dirs(path: str) -> None:
    """``os.makedirs(path, exist_ok=True)``, each folder it creates with ``DIR_MODE`` whatever the umask."""
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder)
            os.chmod(folder, DIR_MODE)


@contextlib.contextmanager
def staging_dir(final_path: str) -> Iterator[str]:
    """Yields a new, leased staging folder for ``final_path``; removes whatever is left of it on exit.

    The caller renames the folder into place (then nothing is left to remove).
    """
    parent = os.path.dirname(os.path.abspath(final_path))
    make_dirs(parent)
    remove_stale(parent)
    staging = staging_path(final_path)
    try:
        owner = lease.try_acquire(staging + LEASE_SUFFIX)  # before the folder: never an unowned live one
    except OSError:  # a volume without exclusive create: the age bound alone then guards the folder
        owner = None
    try:
        os.makedirs(staging)
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # left only when the caller did not rename it
        if owner is not None:
            owner.release()


@contextlib.contextmanager
def staged_dir(final_path: str) -> Iterator[str]:
    """Yields a fresh folder next to ``final_path``; renames it there on success.

    Args:
        final_path: The folder the finished output must appear at.

    Yields:
        The temporary folder to write into (same filesystem, so the rename is atomic).
    """
    with staging_dir(final_path) as staging:
        yield staging
        set_published_modes(staging)
        _remove(final_path)
        os.replace(staging, final_path)


def write_file(path: str, content: Union[str, bytes], mode: int = 0o644) -> None:
    """Writes ``content`` to ``path`` atomically: readers see the old file or the whole new one."""
    make_dirs(os.path.dirname(os.path.abspath(path)))
    staging = staging_path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd = os.open(staging, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
    try:
        os.fchmod(fd, mode)  # exact: os.open applies the umask to mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(staging)
        raise


def _is_staging_entry(name: str) -> bool:
    if name.endswith(LEASE_SUFFIX) or name.endswith(LEASE_SUFFIX + ".break"):
        return False
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in STAGING_PATTERNS)


def _last_touched(*paths: str) -> float:
    times = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            times.append(os.lstat(path).st_mtime)
    return max(times, default=0.0)


def remove_stale(parent: str, older_than: float = STALE_AFTER_S) -> List[str]:
    """Removes staging leftovers in ``parent``: untouched for ``older_than`` seconds and not in use.

    In use means its lease is held by a live owner (``lease.is_stale`` is False). Leases whose
    folder is gone (including locks such as the Pusher's) are removed once stale too.

    Returns:
        The paths removed.
    """
    try:
        entries = os.listdir(parent)
    except FileNotFoundError:
        return []
    now, removed = time.time(), []
    for name in entries:
        path = os.path.join(parent, name)
        try:
            if _remove_if_stale(path, name, now, older_than):
                removed.append(path)
        except OSError as e:  # cleaning up is a courtesy: it never fails the step that does it
            print(f"staging: could not remove the leftover {path}: {e}")
    return removed


def _remove_if_stale(path: str, name: str, now: float, older_than: float) -> bool:
    owner = path + LEASE_SUFFIX
    if _is_staging_entry(name):
        if now - _last_touched(path, owner) < older_than:
            return False
        if os.path.exists(owner) and not lease.break_if_stale(owner):
            return False
        _remove(path)
        return True
    if name.endswith(LEASE_SUFFIX) and not os.path.lexists(path[: -len(LEASE_SUFFIX)]):
        return now - _last_touched(path) >= older_than and lease.break_if_stale(path)
    return False
