"""Two narrow workarounds for KFP SDK 2.13, applied when tfx-kfp's components or pipelines load.

1. ``allow_tfx_artifact_namespace``: KFP's SDK accepts only the ``system`` and
   ``google`` namespaces for an artifact ``schema_title``; the KFP backend and
   ML Metadata accept any name. We add ``tfx`` so lineage in the KFP UI shows
   ``tfx.Examples``, ``tfx.Model`` … instead of ``system.Artifact``.
2. ``comment_multiline_defaults``: the compiler writes every pipeline
   parameter's default into the YAML header comment verbatim, so a multi-line
   string default (our module source) leaves uncommented lines and invalid
   YAML. We comment out every line of that header.

Both are idempotent and change nothing else.
"""

import functools

from kfp.dsl.types import type_utils

TFX_NAMESPACE = "tfx"


def allow_tfx_artifact_namespace() -> None:
    original = type_utils.validate_schema_title
    if getattr(original, "_tfx_kfp", False):
        return

    @functools.wraps(original)
    def validate_schema_title(schema_title: str) -> None:
        namespace, _, name = schema_title.partition(".")
        if namespace == TFX_NAMESPACE and name and "." not in name:
            return
        original(schema_title)

    validate_schema_title._tfx_kfp = True
    type_utils.validate_schema_title = validate_schema_title


def comment_multiline_defaults() -> None:
    from kfp.compiler import pipeline_spec_builder

    original = pipeline_spec_builder.extract_comments_from_pipeline_spec
    if getattr(original, "_tfx_kfp", False):
        return

    @functools.wraps(original)
    def extract_comments(pipeline_spec: dict, pipeline_description: str) -> str:
        header = original(pipeline_spec, pipeline_description)
        lines = [line if line.startswith("#") else f"#    {line}".rstrip() for line in header.splitlines()]
        return "\n".join(lines) + "\n"

    extract_comments._tfx_kfp = True
    pipeline_spec_builder.extract_comments_from_pipeline_spec = extract_comments
