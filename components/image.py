"""The runtime image every component runs in.

The tag is derived from the package version, never ``:latest``, so a compiled
pipeline names exactly the image built from the same source.
"""

import os

from tfx_kfp import __version__

IMAGE_REPOSITORY_ENV = "TFX_KFP_IMAGE_REPOSITORY"
DEFAULT_IMAGE_REPOSITORY = "ghcr.io/tfx-kfp/tfx-kfp"


def image_repository() -> str:
    """Returns the image repository, overridable with $TFX_KFP_IMAGE_REPOSITORY."""
    return os.environ.get(IMAGE_REPOSITORY_ENV, DEFAULT_IMAGE_REPOSITORY)


def image_tag(variant: str = "cpu") -> str:
    """Returns the full image reference for a variant ("cpu" or "gpu")."""
    if variant not in ("cpu", "gpu"):
        raise ValueError(f"image variant must be 'cpu' or 'gpu', got {variant!r}")
    suffix = "" if variant == "cpu" else "-gpu"
    return f"{image_repository()}:{__version__}{suffix}"


RUNTIME_IMAGE = image_tag()
