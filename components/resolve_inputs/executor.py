"""Fingerprints the files ExampleGen would read now (TFX's own span resolution and fingerprint)."""

import os
from typing import Tuple

from tfx_kfp.components.example_gen import spans, validation
from tfx_kfp.runtime import arguments


def run(*, data_root: str, input_format: str, input_pattern: str, span_range: list) -> Tuple[str, int]:
    """The ``resolve_inputs`` component's body: (fingerprint, latest span)."""
    arguments.check_input_format("resolve_inputs", input_format)
    validation.require_dir(data_root)
    fingerprint, span = spans.fingerprint(os.path.abspath(data_root), input_format, input_pattern, list(span_range))
    print(f"resolve_inputs: span {span}; {fingerprint.count('split:') or 1} input glob(s) fingerprinted")
    return fingerprint, span
