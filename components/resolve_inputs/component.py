"""ResolveInputs: which input files ExampleGen reads now, as a fingerprint its cache key includes."""

from typing import NamedTuple

from kfp import dsl

from tfx_kfp.components.image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def resolve_inputs(
    data_root: str,
    input_format: str = "csv",
    input_pattern: str = "",
    span_range: list = [],
) -> NamedTuple("ResolvedInputs", [("fingerprint", str), ("span", int)]):
    """Resolves the span ExampleGen will read and fingerprints its files (TFX's ExampleGen driver step).

    KFP caches a task by its parameters, which stay the same when a new data drop (span) arrives; passing
    this fingerprint to ExampleGen makes its cache key change exactly when the files it reads change.
    Never cached itself.

    Args:
        data_root: Folder of the input files (as for ExampleGen).
        input_format: "csv" or "tfrecord" (as for ExampleGen).
        input_pattern: TFX input pattern under ``data_root`` (as for ExampleGen); empty: every file.
        span_range: ``[first, last]`` or empty for the latest span (as for ExampleGen).

    Returns:
        fingerprint: TFX's fingerprint of the selected files (paths, sizes, modification times), then a
            BLAKE2b hash of their contents (docs/continuous-training.md).
        span: The latest span selected (0 without a span pattern).
    """
    from tfx_kfp.components.resolve_inputs import executor

    fingerprint, span = executor.run(data_root=data_root, input_format=input_format, input_pattern=input_pattern,
                                     span_range=span_range)
    outputs = NamedTuple("ResolvedInputs", [("fingerprint", str), ("span", int)])
    return outputs(fingerprint, span)
