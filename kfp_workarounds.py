"""Every workaround tfx-kfp applies to the KFP SDK, in one place, applied explicitly.

KFP SDK 2.13 (the 1.16 stack) and 2.17 (the current stack) have the same two limits our
pipelines hit (read in kfp 2.13.0 and 2.17.3: ``kfp/dsl/types/type_utils.py``
``validate_schema_title`` and ``kfp/compiler/pipeline_spec_builder.py``
``extract_comments_from_pipeline_spec``, unchanged between them):

1. ``tfx_artifact_namespace``: the SDK accepts only the ``system`` and
   ``google`` namespaces for an artifact ``schema_title``; the KFP backend and
   ML Metadata accept any name. We add ``tfx`` so lineage in the KFP UI shows
   ``tfx.Examples``, ``tfx.Model`` … instead of ``system.Artifact``.
2. ``commented_yaml_header``: the compiler writes every pipeline
   parameter's default into the YAML header comment verbatim, so a multi-line
   string default (a module source) leaves uncommented lines and invalid YAML.
   We comment out every line of that header.

Each is a context manager that restores KFP on exit, so nothing stays patched
and other pipelines in the process compile exactly as KFP would compile them:
``tfx_kfp.components`` defines its interfaces inside ``defining_components()``,
and ``tfx_kfp.pipelines.compile_pipeline`` compiles inside ``compiling()``.
Both refuse a KFP release line not in WORKAROUNDS (each line lists the workarounds it
needs, so a line that fixes one drops it there); ``tests/unit/test_kfp_workarounds.py``
fails when the installed KFP fixes or moves a patched symbol.
"""

import contextlib
import functools
from typing import Dict, Iterator, Tuple

import kfp

TFX_NAMESPACE = "tfx"
# KFP release line -> the workarounds it needs (names of the context managers below).
WORKAROUNDS: Dict[str, Tuple[str, ...]] = {
    "2.13.": ("tfx_artifact_namespace", "commented_yaml_header"),
    "2.17.": ("tfx_artifact_namespace", "commented_yaml_header"),
}


class UnsupportedKfpVersion(RuntimeError):
    """The installed KFP SDK is not a version these workarounds were written against."""


def check_kfp_version(version: str = kfp.__version__) -> Tuple[str, ...]:
    """The workarounds ``version`` needs; refuses a release line not in WORKAROUNDS."""
    for prefix, names in WORKAROUNDS.items():
        if version.startswith(prefix):
            return names
    expected = " or ".join(f"{prefix}x" for prefix in WORKAROUNDS)
    raise UnsupportedKfpVersion(
        f"tfx-kfp's KFP workarounds expect kfp {expected}, got {version}: "
        "re-check kfp_workarounds.py against this version")


@contextlib.contextmanager
def _applying(name: str) -> Iterator[None]:
    if name in check_kfp_version():
        with globals()[name]():
            yield
    else:
        yield


@contextlib.contextmanager
def _patched(module, name: str, make_replacement) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, functools.wraps(original)(make_replacement(original)))
    try:
        yield
    finally:
        setattr(module, name, original)


def tfx_artifact_namespace():
    """While active, component definitions may use ``tfx.*`` artifact types."""
    from kfp.dsl.types import type_utils

    def make(original):
        def validate_schema_title(schema_title: str) -> None:
            namespace, _, name = schema_title.partition(".")
            if namespace == TFX_NAMESPACE and name and "." not in name:
                return
            original(schema_title)
        return validate_schema_title

    return _patched(type_utils, "validate_schema_title", make)


def commented_yaml_header():
    """While active, the compiler comments every line of the YAML header."""
    from kfp.compiler import pipeline_spec_builder

    def make(original):
        def extract_comments(pipeline_spec: dict, pipeline_description: str) -> str:
            header = original(pipeline_spec, pipeline_description)
            lines = [line if line.startswith("#") else f"#    {line}".rstrip() for line in header.splitlines()]
            return "\n".join(lines) + "\n"
        return extract_comments

    return _patched(pipeline_spec_builder, "extract_comments_from_pipeline_spec", make)


@contextlib.contextmanager
def defining_components() -> Iterator[None]:
    """Scope in which tfx-kfp defines its component interfaces."""
    with _applying("tfx_artifact_namespace"):
        yield


@contextlib.contextmanager
def compiling() -> Iterator[None]:
    """Scope in which tfx-kfp compiles a pipeline."""
    with _applying("commented_yaml_header"):
        yield
