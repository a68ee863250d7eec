"""Every workaround tfx-kfp applies to the KFP SDK, in one place, applied explicitly.

KFP SDK 2.13 has two limits our pipelines hit:

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
Both refuse any KFP but 2.13.x; ``tests/unit/test_kfp_workarounds.py`` fails
when upstream fixes or moves a patched symbol.
"""

import contextlib
import functools
from typing import Iterator

import kfp

SUPPORTED_KFP_PREFIX = "2.13."
TFX_NAMESPACE = "tfx"


class UnsupportedKfpVersion(RuntimeError):
    """The installed KFP SDK is not the version these workarounds were written against."""


def check_kfp_version(version: str = kfp.__version__) -> None:
    if not version.startswith(SUPPORTED_KFP_PREFIX):
        raise UnsupportedKfpVersion(
            f"tfx-kfp's KFP workarounds expect kfp {SUPPORTED_KFP_PREFIX}x, got {version}: "
            "re-check kfp_workarounds.py against this version")


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
    check_kfp_version()
    with tfx_artifact_namespace():
        yield


@contextlib.contextmanager
def compiling() -> Iterator[None]:
    """Scope in which tfx-kfp compiles a pipeline."""
    check_kfp_version()
    with commented_yaml_header():
        yield
