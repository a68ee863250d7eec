"""The content part of the input fingerprint: a hash of the bytes of every file ExampleGen reads.

TFX's fingerprint (``example_gen.utils.calculate_splits_fingerprint_span_and_version``) covers each
file's path, size and modification time, so an edit that keeps the size and the modification time
(``touch -r``, ``cp -p``, a tool restoring times) leaves it unchanged and ExampleGen's cache key with
it. The content hash closes that gap: BLAKE2b-256 of each file's bytes, in path order.

A file's hash is computed once per process and reused while its identity and ``ctime`` stay the
same. The kernel sets ``ctime`` on every write and on every change of the modification time, and no
call sets it back, so an edit of any kind gives the file a new key and a new hash.
"""

import hashlib
import os
from typing import Dict, Iterable, Tuple

CONTENT_MARK = "content_blake2b:"
_CHUNK = 4 << 20
_hashes: Dict[Tuple, str] = {}  # (path, device, inode, size, mtime_ns, ctime_ns) -> hex digest


def _identity(path: str) -> Tuple:
    info = os.stat(path)
    return (os.path.abspath(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def file_hash(path: str) -> str:
    """BLAKE2b-256 of the file's bytes (reused while the file's identity and ctime are unchanged)."""
    key = _identity(path)
    if key not in _hashes:
        digest = hashlib.blake2b(digest_size=32)
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                digest.update(chunk)
        if _identity(path) == key:  # written while we read it: do not remember a hash of mixed bytes
            _hashes[key] = digest.hexdigest()
        return digest.hexdigest()
    return _hashes[key]


def content_line(files: Iterable[str]) -> str:
    """One line naming the hash of all ``files``' contents (each file's path and hash, in path order)."""
    digest = hashlib.blake2b(digest_size=32)
    count = 0
    for path in sorted(os.path.abspath(p) for p in files):
        digest.update(f"{path}\0{file_hash(path)}\n".encode())
        count += 1
    return f"{CONTENT_MARK}{digest.hexdigest()},num_files:{count}"


def with_content(tfx_fingerprint: str, files: Iterable[str]) -> str:
    """TFX's fingerprint with the content line appended (what ``resolve_inputs`` outputs)."""
    return f"{tfx_fingerprint}\n{content_line(files)}"


def tfx_part(fingerprint: str) -> str:
    """TFX's fingerprint out of ``with_content``'s text (unchanged when it has no content line)."""
    head, mark, _ = fingerprint.rpartition("\n" + CONTENT_MARK)
    return head if mark else fingerprint
