"""One short line of what a finished stage produced, read only from its TaskEvent.

Each stage is recognised by its output artifacts (``components/names.py``),
not by its task name, so a pipeline that renames tasks still gets its results.
The metadata keys read here are the ones the executors write:

    examples         split_names (TFX property); row counts if present (row_count / row_counts)
    statistics       split_names
    anomalies        anomaly_count
    transformed_examples  split_names
    model + metrics  the trainer's final Keras metrics (loss, *accuracy)
    blessing + metrics    blessed (1/0, also the ``blessed`` output parameter), blessing_metric (the
                          EvalConfig's thresholded metric, shown); the Overall metrics
    pushed_model     pushed (1/0), pushed_version
"""

import json
from typing import Any, Callable, List, Mapping, Optional, Sequence

from tfx_kfp.components import names
from tfx_kfp.local.events import CACHED, DONE, FAILED, SKIPPED, TaskEvent
from tfx_kfp.runtime.metadata import unwrap

# Why a task under a gate is skipped: the Evaluator's blessing (the InfraValidator and the Pusher),
# then the InfraValidator's (the Pusher).
GATED_SKIP_REASON = "not blessed"
INFRA_SKIP_REASON = "not infra-blessed"


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _flag(value: Any) -> Optional[bool]:
    number = _number(value)
    return None if number is None else number != 0


def split_names(metadata: Mapping[str, Any]) -> List[str]:
    """TFX stores split names as a JSON list in a string property."""
    value = metadata.get(names.SPLIT_NAMES)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def _rows(metadata: Mapping[str, Any]) -> Optional[int]:
    counts = metadata.get("row_counts")
    if isinstance(counts, Mapping) and counts:
        total = [_number(v) for v in counts.values()]
        return int(sum(total)) if None not in total else None
    count = _number(metadata.get("row_count"))
    return None if count is None else int(count)


def metric_label(name: str) -> str:
    """How a metric is named on the one-line results: any kind of accuracy is ``accuracy``."""
    return "accuracy" if name.endswith("accuracy") else name.replace("_", " ")


def _metric(metrics: Mapping[str, Any], *, overall_only: bool = False, name: str = "") -> Optional[str]:
    """``accuracy 0.950`` from metric ``name``, else from the first accuracy-like one (a validation one first)."""
    if name:
        value = _number(metrics.get(name))
        return None if value is None else f"{metric_label(name)} {value:.3f}"
    keys = [k for k in metrics if "accuracy" in k and not (overall_only and "[" in k)]
    keys.sort(key=lambda k: (not k.startswith("val_"), k))
    for key in keys:
        value = _number(metrics[key])
        if value is not None:
            label = "val accuracy" if key.startswith("val_") else "accuracy"
            return f"{label} {value:.3f}"
    return None


def examples_result(event: TaskEvent) -> Optional[str]:
    metadata = event.outputs.get(names.EXAMPLES, {})
    splits, rows = split_names(metadata), _rows(metadata)
    parts = ([f"{rows:,} rows"] if rows is not None else []) + ([f"splits {', '.join(splits)}"] if splits else [])
    return " · ".join(parts) or None


def statistics_result(event: TaskEvent) -> Optional[str]:
    splits = split_names(event.outputs.get(names.STATISTICS, {}))
    return f"statistics of {', '.join(splits)}" if splits else None


def anomalies_result(event: TaskEvent) -> Optional[str]:
    count = _number(event.outputs.get(names.ANOMALIES, {}).get("anomaly_count"))
    if count is None:
        return None
    return "no anomalies" if count == 0 else f"{int(count)} anomalies found"


def transform_result(event: TaskEvent) -> Optional[str]:
    splits = split_names(event.outputs.get(names.TRANSFORMED_EXAMPLES, {}))
    return f"transformed {', '.join(splits)}" if splits else None


def trainer_result(event: TaskEvent) -> Optional[str]:
    metrics = event.outputs.get(names.METRICS, {})
    loss = _number(metrics.get("loss"))
    parts = ([f"loss {loss:.3f}"] if loss is not None else []) + [m for m in [_metric(metrics)] if m]
    return ", ".join(parts) or None


def blessed(event: TaskEvent) -> Optional[bool]:
    """The evaluator's verdict: the output parameter, else the blessing's metadata."""
    if names.BLESSED in event.parameters:
        return _flag(event.parameters[names.BLESSED])
    return _flag(event.outputs.get(names.BLESSING, {}).get(names.META_BLESSED))


def evaluator_result(event: TaskEvent) -> Optional[str]:
    """``accuracy 0.950 vs 0.930 of served v17, blessed`` (the baseline part when there was one)."""
    verdict = blessed(event)
    blessing = event.outputs.get(names.BLESSING, {})
    name = str(blessing.get(names.META_BLESSING_METRIC) or "")  # the EvalConfig's thresholded metric
    metric = _metric(event.outputs.get(names.METRICS, {}), overall_only=True, name=name)
    version = _number(blessing.get(names.META_BASELINE_VERSION))
    if metric and version:
        served = _metric(unwrap(blessing.get(names.META_BASELINE_METRICS)) or {}, overall_only=True, name=name)
        metric += f" vs {served.split()[-1]} of served v{int(version)}" if served else f" vs served v{int(version)}"
    parts = [m for m in [metric] if m] + ([] if verdict is None else ["blessed" if verdict else "NOT blessed"])
    return ", ".join(parts) or None


def infra_result(event: TaskEvent) -> Optional[str]:
    verdict = _flag(event.outputs.get(names.INFRA_BLESSING, {}).get(names.META_BLESSED))
    if verdict is None:
        return None
    if verdict:
        return "loads and answers in the serving stack"
    cause = event.outputs.get(names.INFRA_BLESSING, {}).get(names.META_INFRA_CAUSE)
    return f"NOT infra-blessed: {cause}" if cause else "NOT infra-blessed: see its report"


def baseline_result(event: TaskEvent) -> Optional[str]:
    metadata = event.outputs.get(names.BASELINE_MODEL, {})
    if names.META_BASELINE not in metadata:
        return None
    version = _number(metadata.get(names.META_PUSHED_VERSION))
    return f"served version {int(version)}" if _flag(metadata[names.META_BASELINE]) and version else \
        "nothing served yet: first push"


def pusher_result(event: TaskEvent) -> Optional[str]:
    metadata = event.outputs.get(names.PUSHED_MODEL, {})
    pushed = _flag(metadata.get(names.META_PUSHED))
    if pushed is None:
        return None
    if not pushed:
        return f"not pushed: {GATED_SKIP_REASON}"
    version = metadata.get(names.META_PUSHED_VERSION)
    number = _number(version)
    if number is not None and number.is_integer():  # ML Metadata keeps every number as a double
        version = int(number)
    return f"pushed version {version}" if version is not None else "pushed"


# (an output that identifies the stage, its result): the most specific first.
EXTRACTORS: Sequence = (
    (names.PUSHED_MODEL, pusher_result),
    (names.BLESSING, evaluator_result),
    (names.INFRA_BLESSING, infra_result),
    (names.BASELINE_MODEL, baseline_result),
    (names.MODEL, trainer_result),
    (names.TRANSFORM_GRAPH, transform_result),
    (names.ANOMALIES, anomalies_result),
    (names.STATISTICS, statistics_result),
    (names.EXAMPLES, examples_result),
)


def inputs_result(event: TaskEvent) -> Optional[str]:
    span = _number(event.parameters.get("span"))
    return None if span is None else f"span {int(span)}"


def _extractor(event: TaskEvent) -> Optional[Callable[[TaskEvent], Optional[str]]]:
    if not event.outputs and "fingerprint" in event.parameters:  # resolve_inputs
        return inputs_result
    return next((fn for output, fn in EXTRACTORS if output in event.outputs), None)


def skip_reason(events: Optional[Mapping[str, TaskEvent]]) -> str:
    """Why gated tasks were skipped: the InfraValidator ran and refused the model, else not blessed."""
    infra = next((e for e in (events or {}).values() if names.INFRA_BLESSING in e.outputs), None)
    refused = infra is not None and _flag(infra.outputs[names.INFRA_BLESSING].get(names.META_BLESSED)) is False
    return INFRA_SKIP_REASON if refused else GATED_SKIP_REASON


def key_result(event: TaskEvent, events: Optional[Mapping[str, TaskEvent]] = None) -> str:
    """What the task's final state means in a few words (the state itself is shown beside it).

    ``events``: the run's last event per task, which tells why a gated task was skipped.
    """
    if event.state == SKIPPED:
        return skip_reason(events)
    if event.state == FAILED:
        return "see below"
    if event.state not in (DONE, CACHED):
        return ""
    extractor = _extractor(event)
    result = extractor(event) if extractor else None
    if result is None:
        count = len(event.outputs)
        result = f"({count} output{'s' if count != 1 else ''})" if count else ""
    return result


def run_result(events: Mapping[str, TaskEvent]) -> str:
    """The run's outcome in words, from the last event of each task (the evaluator's and pusher's)."""
    failed = [e.task for e in events.values() if e.state == FAILED]
    if failed:
        return f"FAILED in {', '.join(failed)}"
    evaluator = next((e for e in events.values() if names.BLESSING in e.outputs), None)
    pusher = next((e for e in events.values() if names.PUSHED_MODEL in e.outputs), None)
    parts = []
    if evaluator is not None:
        parts.append(evaluator_result(evaluator) or "evaluated")
    infra = next((e for e in events.values() if names.INFRA_BLESSING in e.outputs), None)
    if infra is not None and infra_result(infra) and not _flag(infra.outputs[names.INFRA_BLESSING].get(names.META_BLESSED)):
        cause = infra.outputs[names.INFRA_BLESSING].get(names.META_INFRA_CAUSE)
        parts.append(f"NOT infra-blessed ({cause})" if cause else
                     "NOT infra-blessed (fails in the serving stack; see the infra-validator report)")
    if pusher is not None:
        parts.append(key_result(pusher, events))
    parts += [f"{e.task} skipped ({key_result(e, events)})" for e in events.values() if e.state == SKIPPED]
    return "succeeded" + (f": {'; '.join(parts)}" if parts else "")
