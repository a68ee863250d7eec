"""Reading artifact metadata that may have passed through the KFP backend's ML Metadata round trip.

On a cluster the launcher stores output metadata in ML Metadata and the next task
receives it converted (kubeflow/pipelines backend/src/v2/metadata/converter.go): a
dict comes back as ``{"struct": {...}}``, a list as ``{"list": [...]}``, a bool as
1/0. ``kfp.local`` hands metadata over unchanged. Components read through ``value``
so both shapes give the value the producer wrote.
"""

import math
from typing import Any, Mapping

_WRAPPERS = ("struct", "list")


def unwrap(value: Any) -> Any:
    """The value a producer wrote, from either shape."""
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), = value.items()
        if key == "struct" and isinstance(inner, dict) or key == "list" and isinstance(inner, list):
            return inner
    return value


def value(metadata: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """``metadata[key]`` as the producer wrote it (``default`` when absent)."""
    if key not in metadata:
        return default
    return unwrap(metadata[key])


def flag(metadata: Mapping[str, Any], key: str, default: bool = False) -> bool:
    """A boolean the producer wrote, read back from ``True``/``False`` or the backend's 1/0."""
    raw = value(metadata, key)
    return default if raw is None else bool(raw)


def log_finite_metric(metrics, key: str, number: float) -> bool:
    """Logs ``number`` on a ``system.Metrics`` artifact unless it is NaN or infinite.

    The launcher reads executor output with strict protojson, which rejects the
    ``NaN``/``Infinity`` tokens Python writes, failing the task on a cluster only;
    such a metric stays in the stage's report instead.
    """
    if not math.isfinite(number):
        return False
    metrics.log_metric(key, round(number, 6))
    return True
