"""Validates that a candidate serves: TF Serving's loader, then real requests to our server over REST and gRPC.

TFX's own InfraValidator executor starts ``tensorflow_model_server`` in Docker or a Kubernetes pod,
neither of which a KFP task can do; this one serves the model with ``tfx_kfp.serving`` inside the
task and keeps TFX's outputs (``INFRA_BLESSED`` / ``INFRA_NOT_BLESSED``, ``blessed``, warmup
requests as ``PredictionLog`` records).
"""

import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from typing import List, Optional

import tensorflow as tf
from kfp.dsl import Input, Markdown, Output

from tfx_kfp.components import names
from tfx_kfp.components.infra_validator import causes, load_check, request_builder
from tfx_kfp.components.types import Examples, InfraBlessing, Model
from tfx_kfp.runtime import reports
from tfx_kfp.runtime.errors import InputError
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.reports import render_infra_markdown

# tfx/components/infra_validator/executor.py: _NOT_BLESSED_FILENAME, _DEFAULT_MODEL_NAME
# (restated: importing that module pulls in its Docker and Kubernetes runners;
# tests/executors/test_infra_validator.py checks they agree). The blessed file and the warmup file are in names.
NOT_BLESSED_FILE = "INFRA_NOT_BLESSED"
MODEL_NAME = "infra-validation-model"
MAX_LOADING_TIME_S = load_check.MAX_LOADING_TIME_S  # TFX's _DEFAULT_MAX_LOADING_TIME_SEC
SERVING_TAGS = [tf.saved_model.SERVING]
PROTOCOLS = ("rest", "grpc")


@dataclass
class Outcome:
    """What one signature's requests of one API did over one protocol."""

    signature: str
    api: str
    protocol: str
    latencies_ms: List[float] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)

    @property
    def p50_ms(self) -> Optional[float]:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None


@dataclass
class Validation:
    """Everything the decision and the report need."""

    model_dir: str
    examples_read: int = 0
    loader_error: str = ""
    loader_seconds: float = 0.0
    plans: List[request_builder.SignatureRequests] = field(default_factory=list)
    server_error: str = ""
    server_events: List[str] = field(default_factory=list)
    outcomes: List[Outcome] = field(default_factory=list)
    max_latency_ms: float = 0.0
    seconds: float = 0.0

    def reasons(self) -> List[str]:
        """Why the model is not blessed; empty when it is."""
        if self.loader_error:
            return [f"TF Serving's SavedModel loader (tags {SERVING_TAGS}) failed: {self.loader_error}"]
        found = [plan.error for plan in self.plans if plan.error]
        if not self.plans:
            found.append("the model has no serving signature to send requests to")
        if self.server_error:
            found.append(f"the model server could not serve the model: {self.server_error}")
        for outcome in self.outcomes:
            where = f"{outcome.signature} {outcome.api} over {outcome.protocol}"
            if outcome.failures:
                found.append(f"{where}: {len(outcome.failures)} of {len(outcome.latencies_ms) + len(outcome.failures)} "
                             f"requests failed, first: {outcome.failures[0]}")
            elif outcome.p50_ms is not None and outcome.p50_ms > self.max_latency_ms:
                found.append(f"{where}: median latency {outcome.p50_ms:.1f} ms exceeds {self.max_latency_ms:g} ms")
        return found


def load_like_tf_serving(saved_model_dir: str, timeout_s: float):
    """Loads the SavedModel with the TF1 ``SavedModelBundle`` loader, as TF Serving does, within ``timeout_s``.

    The load runs in a child process (``load_check``), killed when it passes the limit.

    Returns:
        (its MetaGraphDef, "") or (None, the loader's error or "did not load within N s").
    """
    data, error = load_check.load_in_child(saved_model_dir, SERVING_TAGS, timeout_s)
    return (tf.compat.v1.MetaGraphDef.FromString(data), "") if data is not None else (None, error)


def _send(client, plan: request_builder.SignatureRequests, protocol: str) -> Outcome:
    outcome = Outcome(plan.signature, plan.api, protocol)
    for call in plan.calls:
        started = time.perf_counter()
        try:
            getattr(client, call.api)(MODEL_NAME, **call.arguments)
        except Exception as error:  # noqa: BLE001 - a request that fails in any way fails validation
            outcome.failures.append(f"{type(error).__name__}: {error}")
        else:
            outcome.latencies_ms.append((time.perf_counter() - started) * 1e3)
    return outcome


def serve_and_query(validation: Validation, request_timeout_s: float, load_timeout_s: float) -> None:
    """Serves the model as version 1 on loopback ports and sends every request over REST and gRPC."""
    from tfx_kfp.serving import server
    from tfx_kfp.serving.client import ServingClient
    from tfx_kfp.serving.protocol.errors import ServingError

    with tempfile.TemporaryDirectory(prefix="infra-validation-") as base:
        shutil.copytree(validation.model_dir, os.path.join(base, "1"))
        try:
            handle = server.start(MODEL_NAME, base, rest_port=0, grpc_port=0, poll_seconds=0,
                                  max_num_load_retries=0, wait_for_models=load_timeout_s,
                                  rest_api_timeout_ms=max(1, round(request_timeout_s * 1e3)),
                                  on_event=validation.server_events.append)
        except ServingError as error:
            validation.server_error = f"{type(error).__name__}: {error}"
            return
        with handle:
            for protocol in PROTOCOLS:
                with ServingClient(rest_port=handle.rest_port, grpc_port=handle.grpc_port, protocol=protocol,
                                   timeout=request_timeout_s, retries=0) as client:
                    validation.outcomes.extend(_send(client, plan, protocol) for plan in validation.plans
                                               if not plan.error)


def validate(model: Input[Model], examples: Input[Examples], num_examples: int, request_timeout_s: float,
             max_latency_ms: float, load_timeout_seconds: float) -> Validation:
    """Runs the loader check, then (if it passed) the requests; never raises for a model that fails."""
    for field_name, value in (("request_timeout_s", request_timeout_s), ("max_latency_ms", max_latency_ms),
                              ("load_timeout_seconds", load_timeout_seconds)):
        if not value > 0:
            raise InputError("infra_validator", "must be a positive number", field=field_name, received=str(value))
    started = time.monotonic()
    records = request_builder.read_eval_examples(
        examples.path, (examples.metadata or {}).get(names.SPLIT_NAMES, ""), num_examples)
    validation = Validation(os.path.join(model.path, names.SERVING_MODEL_DIR), examples_read=len(records),
                            max_latency_ms=max_latency_ms)
    meta_graph_def, validation.loader_error = load_like_tf_serving(validation.model_dir, load_timeout_seconds)
    validation.loader_seconds = time.monotonic() - started
    if meta_graph_def is not None:
        validation.plans = request_builder.build_requests(MODEL_NAME, meta_graph_def.signature_def, records)
        if validation.plans and not any(plan.error for plan in validation.plans):
            serve_and_query(validation, request_timeout_s, load_timeout_seconds)
    validation.seconds = time.monotonic() - started
    return validation


def _write_blessing(infra_blessing: Output[InfraBlessing], validation: Validation, blessed: bool) -> int:
    """Writes the verdict file (and, when blessed, the warmup requests) atomically; returns the records written."""
    logs = request_builder.warmup_logs(validation.plans) if blessed else []
    with staged_dir(infra_blessing.path) as folder:
        with open(os.path.join(folder, names.INFRA_BLESSED_FILE if blessed else NOT_BLESSED_FILE), "w"):
            pass
        if logs:
            with tf.io.TFRecordWriter(os.path.join(folder, names.WARMUP_FILE)) as writer:
                for log in logs:
                    writer.write(log.SerializeToString())
    infra_blessing.metadata[names.META_BLESSED] = int(blessed)
    return len(logs)


def run(
    *,
    model: Input[Model],
    examples: Input[Examples],
    infra_blessing: Output[InfraBlessing],
    report: Output[Markdown],
    num_examples: int,
    request_timeout_s: float,
    max_latency_ms: float,
    load_timeout_seconds: float,
) -> bool:
    """The ``infra_validator`` component's body; returns whether the model is infra-blessed."""
    validation = validate(model, examples, num_examples, request_timeout_s, max_latency_ms, load_timeout_seconds)
    reasons = validation.reasons()
    blessed = not reasons
    cause = causes.known_cause(reasons)
    if cause:
        reasons.insert(0, f"Cause: {cause}")
        infra_blessing.metadata[names.META_INFRA_CAUSE] = cause
    warmup_records = _write_blessing(infra_blessing, validation, blessed)
    reports.write_report(report, render_infra_markdown(validation, reasons, warmup_records))
    verdict = names.INFRA_BLESSED_FILE if blessed else f"{NOT_BLESSED_FILE}: " + "; ".join(reasons)
    print(f"infra_validator: {verdict} ({validation.seconds:.1f}s)")
    return blessed
