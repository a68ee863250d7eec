"""The runtime image every component runs in, and its tag.

The tag is ``<package version>-<source digest>``: the digest is a SHA-256 over
the files the Dockerfile builds the image from (BUILD_INPUTS, the same list as
.dockerignore's allowlist, less PARAMETER_ONLY), so code rebuilt under the same package version gets
a new tag. A cluster then never runs stale code under an old tag, and the KFP
backend's cache (keyed on the component spec, which names the image) never
reuses outputs of older code. It is computed from the files alone, without
Docker, by ``tfx-kfp image build`` and by ``compile`` alike.

Inside the image there is no source tree; the Dockerfile records the digest in
$TFX_KFP_IMAGE_SOURCE_DIGEST. Where neither exists (tfx-kfp installed from a
wheel), the tag is the package version alone.
"""

import functools
import hashlib
import os
from importlib import metadata
from pathlib import Path
from typing import Dict, Iterator, NamedTuple, Optional

from tfx_kfp import __version__

IMAGE_REPOSITORY_ENV = "TFX_KFP_IMAGE_REPOSITORY"
DEFAULT_IMAGE_REPOSITORY = "ghcr.io/tfx-kfp/tfx-kfp"
SOURCE_DIGEST_ENV = "TFX_KFP_IMAGE_SOURCE_DIGEST"
DIGEST_LENGTH = 12
# What the image is built from: the Dockerfile's COPY sources and .dockerignore's allowlist
# (tests/docker/test_image_command.py keeps the three lists equal).
BUILD_INPUTS = ("Dockerfile", "pyproject.toml", "uv.lock", "stacks", "README.md", "setup.py", "__init__.py",
                "kfp_workarounds.py", "cli", "cluster", "components", "local", "pipelines", "reports", "runtime",
                "serving")
# The preset's module and data reach tasks only as parameter values (module_source, data_root),
# never run from the image: editing them must not change the tag, or every task's cache entry
# would miss although only the Trainer's input changed.
PARAMETER_ONLY = ("pipelines/penguin/penguin_module.py", "pipelines/penguin/data")
# .dockerignore keeps these out of the build context, so they never change the image.
_IGNORED_DIRS = {"__pycache__", ".venv"}
_IGNORED_SUFFIXES = (".pyc",)
SOURCE_ROOT = Path(__file__).resolve().parents[1]
STACK_ENV = "TFX_KFP_IMAGE_STACK"


class Stack(NamedTuple):
    """One supported dependency stack (docs/image.md, "Two stacks")."""

    lock_dir: str  # the folder holding its pyproject.toml and uv.lock (Dockerfile STACK_LOCK)
    base_image: Optional[str]  # its Debian base (Dockerfile PYTHON_IMAGE); None: the Dockerfile's default
    kfp_prefix: str  # the KFP SDK it locks, which is how a running process tells its stack
    tag_suffix: str


STACKS: Dict[str, Stack] = {
    "1.16": Stack(".", None, "2.13.", ""),
    "current": Stack("stacks/current", "python:3.13-slim-trixie", "2.17.", "-tfx1.21"),
}
DEFAULT_STACK = "1.16"


def running_stack() -> str:
    """The stack of this process: the image's record, else the installed KFP SDK's version."""
    recorded = os.environ.get(STACK_ENV)
    if recorded in STACKS:
        return recorded
    try:
        kfp_version = metadata.version("kfp")
    except metadata.PackageNotFoundError:
        return DEFAULT_STACK
    return next((name for name, stack in STACKS.items() if kfp_version.startswith(stack.kfp_prefix)),
                DEFAULT_STACK)


def image_repository() -> str:
    """Returns the image repository, overridable with $TFX_KFP_IMAGE_REPOSITORY."""
    return os.environ.get(IMAGE_REPOSITORY_ENV, DEFAULT_IMAGE_REPOSITORY)


def _build_files(root: Path) -> Iterator[Path]:
    for path in _build_context_files(root):
        relative = path.relative_to(root).as_posix()
        if not any(relative == skip or relative.startswith(skip + "/") for skip in PARAMETER_ONLY):
            yield path


def _build_context_files(root: Path) -> Iterator[Path]:
    for name in BUILD_INPUTS:
        path = root / name
        if path.is_file():
            yield path
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in _IGNORED_DIRS and not d.endswith(".egg-info"))
            for file in sorted(files):
                if not file.endswith(_IGNORED_SUFFIXES):
                    yield Path(folder) / file


def is_source_tree(root: Path) -> bool:
    """Whether ``root`` holds what the image is built from (Dockerfile, pyproject.toml, uv.lock)."""
    return all((root / name).is_file() for name in ("Dockerfile", "pyproject.toml", "uv.lock"))


def compute_source_digest(root: Path) -> str:
    """SHA-256 (first DIGEST_LENGTH hex digits) over the build inputs' relative paths and bytes."""
    digest = hashlib.sha256()
    for path in _build_files(root):
        relative = path.relative_to(root).as_posix().encode()
        digest.update(len(relative).to_bytes(4, "big") + relative)
        data = path.read_bytes()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()[:DIGEST_LENGTH]


@functools.lru_cache(maxsize=None)
def _tree_digest(root: Path) -> str:
    return compute_source_digest(root)


def source_digest() -> Optional[str]:
    """The digest of the source this process runs: from the source tree, else from the image's record."""
    if is_source_tree(SOURCE_ROOT):
        return _tree_digest(SOURCE_ROOT)
    return os.environ.get(SOURCE_DIGEST_ENV) or None


def image_tag(variant: str = "cpu", digest: Optional[str] = None, stack: Optional[str] = None) -> str:
    """Returns the full image reference for a variant ("cpu" or "gpu") of a stack (STACKS).

    ``digest`` defaults to :func:`source_digest` (this installation's source), ``stack`` to
    :func:`running_stack`, so a compiled pipeline names the image of the stack it was compiled on.
    """
    if variant not in ("cpu", "gpu"):
        raise ValueError(f"image variant must be 'cpu' or 'gpu', got {variant!r}")
    stack = stack or running_stack()
    if stack not in STACKS:
        raise ValueError(f"image stack must be one of {sorted(STACKS)}, got {stack!r}")
    suffix = STACKS[stack].tag_suffix + ("" if variant == "cpu" else "-gpu")
    digest = digest or source_digest()
    version = f"{__version__}-{digest}" if digest else __version__
    return f"{image_repository()}:{version}{suffix}"


RUNTIME_IMAGE = image_tag()
