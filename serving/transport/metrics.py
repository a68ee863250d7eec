"""Prometheus metrics under TF Serving 2.16.1's names (``servables/tensorflow/util.cc``, its
exporter turning ``/`` into ``:``): ``:tensorflow:serving:request_count`` by model and status,
``:tensorflow:serving:request_latency`` (microseconds, ``Exponential(10, 1.8, 33)``) by model,
API and entrypoint. A custom collector keeps the count's exact name (untyped, no ``_total``).
"""

import threading
import time
from collections import defaultdict
from typing import Dict, List, Tuple

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import HistogramMetricFamily, Metric

from tfx_kfp.serving.protocol.errors import ServingError

__all__ = ["Metrics", "DEFAULT_PATH", "CONTENT_TYPE", "recorded"]

DEFAULT_PATH = "/monitoring/prometheus/metrics"  # PrometheusExporter::kPrometheusPath
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS_USEC = [10 * 1.8 ** i for i in range(33)]
_REQUEST_COUNT = ":tensorflow:serving:request_count"
_REQUEST_LATENCY = ":tensorflow:serving:request_latency"


class Metrics:
    """Request counts and latencies, rendered in Prometheus text format."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: Dict[Tuple[str, str], int] = defaultdict(int)
        self._latency: Dict[Tuple[str, str, str], List[float]] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def record(self, model_name: str, api: str, entrypoint: str, status: str,
               seconds: float) -> None:
        """Counts one request (``status``: a code name such as ``OK``) and its latency."""
        usec = seconds * 1e6
        with self._lock:
            self._counts[(model_name, status)] += 1
            cell = self._latency.get((model_name, api, entrypoint))
            if cell is None:
                cell = self._latency[(model_name, api, entrypoint)] = [0.0] * (
                    len(_BUCKETS_USEC) + 2)
            index = next((i for i, bound in enumerate(_BUCKETS_USEC) if usec < bound),
                         len(_BUCKETS_USEC))
            cell[index] += 1
            cell[-1] += usec

    def collect(self):
        """prometheus-client collector protocol."""
        with self._lock:
            counts = dict(self._counts)
            latency = {key: list(cell) for key, cell in self._latency.items()}
        # Typed "unknown" (untyped): prometheus-client renames counters to *_total,
        # and the name is what dashboards query.
        counter = Metric(_REQUEST_COUNT, "The total number of requests.", "unknown")
        for (model, status), value in sorted(counts.items()):
            counter.add_sample(_REQUEST_COUNT, {"model_name": model, "status": status}, value)
        yield counter
        histogram = HistogramMetricFamily(
            _REQUEST_LATENCY,
            "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
            labels=["model_name", "API", "entrypoint"])
        for key, cell in sorted(latency.items()):
            cumulative, buckets = 0.0, []
            for bound, count in zip(_BUCKETS_USEC + [float("inf")], cell[:-1]):
                cumulative += count
                buckets.append((repr(bound) if bound != float("inf") else "+Inf", cumulative))
            histogram.add_metric(list(key), buckets, cell[-1])
        yield histogram

    def exposition(self) -> bytes:
        """The Prometheus text page."""
        return generate_latest(self.registry)


def recorded(metrics: "Metrics", model_name: str, api: str, entrypoint: str, work):
    """Returns ``work()``, counting its outcome and latency in ``metrics`` (None: not at all)."""
    started = time.perf_counter()
    status = "OK"
    try:
        return work()
    except ServingError as error:
        status = error.grpc_code
        raise
    except Exception:
        status = "UNKNOWN"
        raise
    finally:
        if metrics is not None:
            metrics.record(model_name, api, entrypoint, status, time.perf_counter() - started)
