"""Fingerprints the files ExampleGen would read now (TFX's own span resolution and fingerprint, plus their content)."""

import glob
import os
from typing import Tuple

from tfx_kfp.components.example_gen import spans, validation
from tfx_kfp.components.resolve_inputs import content
from tfx_kfp.runtime import arguments


def _selected_files(data_root: str, input_format: str, input_pattern: str, span_range: list):
    """(TFX's fingerprint, latest span, the files it covers)."""
    if input_pattern:
        selection = spans.select(data_root, input_pattern, span_range)
        return selection.fingerprint, max(selection.spans), selection.files
    fingerprint, span = spans.fingerprint(data_root, input_format, input_pattern, span_range)
    return fingerprint, span, glob.glob(os.path.join(data_root, spans.default_pattern(data_root, input_format)))


def run(*, data_root: str, input_format: str, input_pattern: str, span_range: list) -> Tuple[str, int]:
    """The ``resolve_inputs`` component's body: (fingerprint, latest span)."""
    arguments.check_input_format("resolve_inputs", input_format)
    validation.require_dir(data_root)
    tfx_fingerprint, span, files = _selected_files(os.path.abspath(data_root), input_format, input_pattern,
                                                   list(span_range))
    fingerprint = content.with_content(tfx_fingerprint, files)
    print(f"resolve_inputs: span {span}; {tfx_fingerprint.count('split:') or 1} input glob(s), "
          f"{len(files)} file(s) fingerprinted with their content")
    return fingerprint, span
