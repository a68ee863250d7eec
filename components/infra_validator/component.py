"""InfraValidator: checks that the candidate loads the way TF Serving loads it and answers real requests."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Input, Markdown, Output

from tfx_kfp.components.image import RUNTIME_IMAGE
from tfx_kfp.components.types import Examples, InfraBlessing, Model


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def infra_validator(
    model: Input[Model],
    examples: Input[Examples],
    infra_blessing: Output[InfraBlessing],
    report: Output[Markdown],
    num_examples: int = 10,
    request_timeout_s: float = 30.0,
    max_latency_ms: float = 2000.0,
    load_timeout_seconds: float = 300.0,
) -> NamedTuple("InfraValidatorOutputs", [("blessed", bool)]):
    """Loads the candidate with TF Serving's loader, serves it and sends it requests built from real examples.

    As TFX's InfraValidator in LOAD_AND_QUERY mode: the SavedModel is loaded with the TF1
    ``SavedModelBundle`` loader and the ``serve`` tag set, then served by the TF Serving-compatible
    server inside the task; every serving signature gets one Predict request per example (and
    Classify / Regress requests where its method is classify / regress), over REST and gRPC.

    Args:
        model: The candidate model; the SavedModel under ``Format-Serving`` is validated (TFX type ``Model``).
        examples: Raw tf.Examples; the requests are built from the ``eval`` split (TFX type ``Examples``).
        num_examples: How many eval examples to build requests from (TFX ``RequestSpec.num_examples``).
        request_timeout_s: Deadline of each request, in seconds.
        max_latency_ms: Highest accepted median latency of each signature and protocol, in milliseconds.
        load_timeout_seconds: Time allowed for loading the model, in seconds: TF Serving's loader (in a
            child process, stopped at the limit; TensorFlow's import there is not counted) and the server's
            load with its warmup. Past it the model is not blessed: "did not load within N s" (TFX
            ``max_loading_time_seconds``, default 300).

    Returns:
        infra_blessing: ``INFRA_BLESSED`` or ``INFRA_NOT_BLESSED`` (TFX type ``InfraBlessing``;
            ``metadata['blessed']``); when blessed, also ``tf_serving_warmup_requests``: the validated
            requests as a TFRecord of ``PredictionLog`` (TF Serving's SavedModel warmup format).
        report: The decision, the loader's result, and per signature and protocol the requests sent,
            the failures and the median and highest latency (Markdown).
        blessed: Whether the model loaded and answered every request within the latency budget;
            gates the Pusher.
    """
    from tfx_kfp.components.infra_validator import load_check

    load_check.prestart()  # the loader's TensorFlow import overlaps the executor's below (another core)
    from tfx_kfp.components.infra_validator import executor

    passed = executor.run(
        model=model,
        examples=examples,
        infra_blessing=infra_blessing,
        report=report,
        num_examples=num_examples,
        request_timeout_s=request_timeout_s,
        max_latency_ms=max_latency_ms,
        load_timeout_seconds=load_timeout_seconds,
    )
    outputs = NamedTuple("InfraValidatorOutputs", [("blessed", bool)])
    return outputs(passed)
