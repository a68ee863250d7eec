"""Benchmark: the local model server's REST and gRPC APIs against in-process calls.

Serves the tiny ``y = 0.5x + 2`` model from a separate server process and
drives it with ``ServingClient`` threads at several concurrency levels,
reporting requests/second and p50/p99 latency, next to the same signature
called in-process (TF2 ``tf.saved_model.load(...).signatures[...]`` and the
server's own session callable). The overhead ratio is server p50 latency over
the in-process p50.

With ``--batching`` it also serves the penguin model (tests/fixtures/penguin_chain)
and a model whose session run dominates a request (``serving_models.write_dense_stack``),
each without and with request batching (``--enable_batching``), and compares
throughput at concurrency 32 (one row per request): penguin over REST, the dense
model over REST and gRPC.

Usage::

    uv run python bench/serving_bench.py [--seconds 3] [--concurrency 1,8,32]
                                          [--protocols rest,grpc] [--batching] [--json out.json]

Every level is bounded in time and in request count; traffic stays on loopback.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

MAX_REQUESTS_PER_LEVEL = 200_000
INSTANCES = [1.0, 2.0, 5.0]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)  # the test models in tests/_support
PENGUIN_MODEL = os.path.join(REPO, "tests", "fixtures", "penguin_chain", "model", "Format-Serving")
PENGUIN_ROW = {"culmen_length_mm": 0.25, "culmen_depth_mm": 0.66, "flipper_length_mm": 0.15,
               "body_mass_g": 0.29}
BATCHING = {"max_batch_size": 32, "batch_timeout_micros": 1000, "num_batch_threads": 2}
# Enough REST worker threads for 32 requests to wait in one batch (the default is 4 per core).
BATCHING_SERVER = {"rest_api_num_threads": 32}

SERVER_PROCESS = r"""
import json, sys
from tfx_kfp.serving import server
options = json.loads(sys.argv[3]) if sys.argv[3] else {}
if "batching" in options:
    from tfx_kfp.serving.models.batching import BatchingOptions
    options["batching"] = BatchingOptions(**options["batching"])
options.setdefault("grpc_max_threads", 64)  # room for every bench thread (default: 4 per core)
handle = server.start(sys.argv[2], sys.argv[1], rest_port=0, grpc_port=0, poll_seconds=30,
                      **options)
handle.wait_until_available(300)
print(json.dumps({"rest": handle.rest_port, "grpc": handle.grpc_port}), flush=True)
sys.stdin.read()
handle.stop()
"""


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def _time_calls(call, seconds: float, warmup: int = 200):
    for _ in range(warmup):
        call()
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and len(latencies) < MAX_REQUESTS_PER_LEVEL:
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    return latencies


def in_process_baselines(version_dir: str, seconds: float):
    """p50 latencies (seconds) of the signature called in-process, two ways."""
    import numpy as np
    import tensorflow as tf

    from tfx_kfp.serving.models.servable import SessionOptions, load_version

    x = np.array(INSTANCES, np.float32)
    signature = tf.saved_model.load(version_dir).signatures["serving_default"]
    tf2 = _time_calls(lambda: signature(x=tf.constant(x)), seconds)
    loaded = load_version("bench", 1, version_dir, SessionOptions())
    session = _time_calls(lambda: loaded.run([("x:0", x)], ["y:0"]), seconds)
    loaded.close()
    return {"tf2_signature_p50_ms": statistics.median(tf2) * 1e3,
            "tf2_signature_p99_ms": _percentile(tf2, 0.99) * 1e3,
            "session_callable_p50_ms": statistics.median(session) * 1e3,
            "session_callable_p99_ms": _percentile(session, 0.99) * 1e3}


class _RawStubClient:
    """A prebuilt PredictRequest sent through a bare stub: grpcio's own cost, no client logic."""

    def __init__(self, port: int):
        import grpc

        from tfx_kfp.serving.client.protos import message_class

        request_class = message_class("tensorflow.serving.PredictRequest")
        response_class = message_class("tensorflow.serving.PredictResponse")
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self._stub = self._channel.unary_unary(
            "/tensorflow.serving.PredictionService/Predict",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString)
        self._request = request_class()
        self._request.model_spec.name = "bench"
        tensor = self._request.inputs["x"]
        tensor.dtype = 1  # DT_FLOAT
        tensor.tensor_shape.dim.add().size = len(INSTANCES)
        tensor.float_val.extend(INSTANCES)

    def predict(self, model_name, instances):
        return self._stub(self._request, timeout=10)

    def close(self):
        self._channel.close()


def run_level(protocol: str, ports, concurrency: int, seconds: float, model: str = "bench",
              instances=INSTANCES):
    """Runs ``concurrency`` client threads for ``seconds``; returns the level's stats."""
    from tfx_kfp.serving.client import ServingClient

    if protocol == "grpc-stub":
        clients = [_RawStubClient(ports["grpc"]) for _ in range(concurrency)]
    else:
        clients = [ServingClient(rest_port=ports["rest"], grpc_port=ports["grpc"],
                                 protocol=protocol, retries=0) for _ in range(concurrency)]
    for client in clients:
        for _ in range(20):
            client.predict(model, instances=instances)
    per_thread = [[] for _ in range(concurrency)]
    errors = []
    start = threading.Barrier(concurrency + 1)
    budget = MAX_REQUESTS_PER_LEVEL // concurrency

    def worker(index):
        client, latencies = clients[index], per_thread[index]
        start.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline and len(latencies) < budget:
            began = time.perf_counter()
            try:
                client.predict(model, instances=instances)
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors.append(repr(error))
                continue
            latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    for client in clients:
        client.close()
    latencies = sorted(v for values in per_thread for v in values)
    return {"protocol": protocol, "concurrency": concurrency, "requests": len(latencies),
            "errors": len(errors), "rps": len(latencies) / elapsed,
            "p50_ms": statistics.median(latencies) * 1e3 if latencies else float("nan"),
            "p99_ms": _percentile(latencies, 0.99) * 1e3}


def _serve(base: str, model: str, options: str) -> subprocess.Popen:
    """Starts a server process; ``options``: JSON of ``server.start`` keyword options."""
    return subprocess.Popen([sys.executable, "-c", SERVER_PROCESS, base, model, options],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _batching_levels(workdir: str, seconds: float):
    """Throughput at concurrency 32, without and with batching, one row per request.

    The penguin model over REST, and a model whose session run dominates a request
    (``serving_models.write_dense_stack``: ~2.6 ms for one row, ~6.5 ms for 32) over REST and gRPC.
    """
    from tests._support import serving_models

    penguin = os.path.join(workdir, "penguin")
    os.makedirs(penguin)
    os.symlink(PENGUIN_MODEL, os.path.join(penguin, "1"))
    dense = os.path.join(workdir, "dense")
    serving_models.write_dense_stack(dense, 1)
    cases = [("penguin", penguin, ["rest"], PENGUIN_ROW),
             ("dense", dense, ["rest", "grpc"], {"x": [0.5] * 8})]
    rows = []
    for model, base, protocols, row in cases:
        for label, options in (("off", BATCHING_SERVER),
                               ("on", {**BATCHING_SERVER, "batching": BATCHING})):
            process = _serve(base, model, json.dumps(options))
            try:
                ports = json.loads(process.stdout.readline())
                for protocol in protocols:
                    _say(f"{model}, batching {label}: {protocol} at concurrency 32 for "
                         f"{seconds:g}s...")
                    level = run_level(protocol, ports, 32, seconds, model, [row])
                    level.update(model=model, batching=label)
                    rows.append(level)
            finally:
                process.stdin.close()
                process.wait(60)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="Seconds per level.")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--protocols", default="rest,grpc,grpc-stub",
                        help="rest and grpc use ServingClient; grpc-stub sends a prebuilt "
                             "request through a bare stub.")
    parser.add_argument("--batching", action="store_true",
                        help="Also compare penguin throughput at concurrency 32 without and "
                             "with request batching.")
    parser.add_argument("--json", default="", help="Also write results to this file.")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",") if c]
    protocols = [p for p in args.protocols.split(",") if p]

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    workdir = tempfile.mkdtemp(prefix="serving-bench-")
    _say("writing the y = 0.5x + 2 model (imports TensorFlow)...")
    from tests._support import serving_models

    base = os.path.join(workdir, "bench")
    version_dir = serving_models.write_half_plus_two(base, 1)
    _say("starting the server process...")
    server = _serve(base, "bench", "")
    try:
        ports = json.loads(server.stdout.readline())
        _say(f"in-process baselines ({args.seconds:g}s each)...")
        baseline = in_process_baselines(version_dir, args.seconds)
        results = []
        for protocol in protocols:
            for concurrency in levels:
                _say(f"{protocol} at concurrency {concurrency} for {args.seconds:g}s...")
                results.append(run_level(protocol, ports, concurrency, args.seconds))
    finally:
        server.stdin.close()
        server.wait(60)

    batching = _batching_levels(workdir, args.seconds) if args.batching else []
    reference = baseline["tf2_signature_p50_ms"]
    print(f"\nIn-process, same signature: TF2 signature call p50 {reference:.3f} ms "
          f"(p99 {baseline['tf2_signature_p99_ms']:.3f}); server's session callable p50 "
          f"{baseline['session_callable_p50_ms']:.3f} ms\n")
    print("| protocol | concurrency | req/s | p50 ms | p99 ms | p50 / in-process "
          "| ms per request (1000/rps) / in-process | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in results:
        row["overhead_ratio"] = row["p50_ms"] / reference
        row["throughput_cost_ratio"] = (1000.0 / row["rps"]) / reference if row["rps"] else 0
        print(f"| {row['protocol']} | {row['concurrency']} | {row['rps']:.0f} | "
              f"{row['p50_ms']:.3f} | {row['p99_ms']:.3f} | {row['overhead_ratio']:.1f}x | "
              f"{row['throughput_cost_ratio']:.2f}x | {row['errors']} |")
    if batching:
        print(f"\nConcurrency 32, one row per request, {BATCHING_SERVER}, batching: {BATCHING}\n")
        print("| model | protocol | batching | req/s | p50 ms | p99 ms | errors |")
        print("|---|---|---|---:|---:|---:|---:|")
        for row in batching:
            print(f"| {row['model']} | {row['protocol']} | {row['batching']} | {row['rps']:.0f} "
                  f"| {row['p50_ms']:.3f} | {row['p99_ms']:.3f} | {row['errors']} |")
        rps = {(r["model"], r["protocol"], r["batching"] == "on"): r["rps"] for r in batching}
        for (model, protocol, batched), value in rps.items():
            if batched and rps[(model, protocol, False)]:
                print(f"batching throughput gain, {model} over {protocol}: "
                      f"{value / rps[(model, protocol, False)]:.2f}x")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"baseline": baseline, "levels": results, "batching": batching}, handle,
                      indent=2)
    single = [r for r in results if r["concurrency"] == 1]
    summary = ", ".join(f"{r['protocol']} p50 {r['p50_ms']:.2f} ms ({r['overhead_ratio']:.1f}x)"
                        for r in single)
    errors = sum(r["errors"] for r in results + batching)
    print(f"\nserving bench: {len(results)} levels, {errors} errors; at concurrency 1: "
          f"{summary} vs {reference:.2f} ms in-process")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
