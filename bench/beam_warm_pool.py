"""A warm Beam worker pool for the Beam stages of one local run (experiment, issue 10 item 3).

Experimental, opt in and not shipped: it lives in bench/ (outside the package's shipped folders), where
the benchmarks that measure it run it; no runtime path chooses it.

The DirectRunner's multi-processing mode starts new worker processes in every Beam stage, and each
imports TensorFlow and TFX again (~20 s on 2 cores). Here ``start(n)`` starts ``n`` worker processes
once, which import TF/TFX/TFDV/TFT/TFMA up front and then serve Beam's worker-pool API with
in-process harnesses (``beam_worker_pool.InstallingWorkerPool``); every Beam stage of the run then
uses them through Beam's ``EXTERNAL`` environment:

    pool = beam_warm_pool.start(2)
    beam_pipeline_args = pool.args   # --runner=tfx_kfp.bench.beam_warm_pool.WarmPoolRunner …
    …
    pool.stop()

``WarmPoolRunner`` is Beam's own FnApiRunner (what the DirectRunner runs batch pipelines on) with the
EXTERNAL environment as its default and ``direct_num_workers`` workers; a dispatcher in the stage's
process hands the workers' start requests to the pool processes in turn. The processes share this
machine's filesystem, so artifacts stay local paths (``object_store.LOCAL_RUNNERS``).
"""

import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from typing import List

RUNNER = "tfx_kfp.bench.beam_warm_pool.WarmPoolRunner"
# What TFX's Beam stages run in their workers: imported once per pool process.
PRELOAD = ("tensorflow", "tfx_bsl.public.tfxio", "tensorflow_data_validation", "tensorflow_transform.beam",
           "tensorflow_model_analysis", "tfx.components.example_gen.csv_example_gen.executor")
READY = "tfx-kfp warm pool ready"
# StartWorker parameter: the job's --extra_package files (local paths; the pool shares this filesystem).
EXTRA_PACKAGES_PARAM = "tfx_kfp_extra_packages"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WarmPool:
    """``n`` pre-imported worker processes on 127.0.0.1; ``args`` are the Beam args that use them."""

    def __init__(self, workers: int, timeout: float = 300.0):
        self.ports = [_free_port() for _ in range(workers)]
        self.logs = [tempfile.NamedTemporaryFile("w+", prefix=f"tfx-kfp-warm-pool-{port}-", suffix=".log",
                                                 delete=False) for port in self.ports]
        self.processes = [subprocess.Popen([sys.executable, "-m", "tfx_kfp.bench.beam_warm_pool", str(port)],
                                           stdout=log, stderr=subprocess.STDOUT)
                          for port, log in zip(self.ports, self.logs)]
        deadline = time.time() + timeout
        for port, process, log in zip(self.ports, self.processes, self.logs):
            while not self._ready(log.name):  # each prints READY once its imports are done and it serves
                if process.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"warm pool worker on port {port} did not start (exit code "
                                       f"{process.returncode}; log {log.name})")
                time.sleep(0.2)

    @staticmethod
    def _ready(log_path: str) -> bool:
        with open(log_path) as f:
            return any(line.startswith(READY) for line in f)

    @property
    def args(self) -> List[str]:
        addresses = ",".join(f"127.0.0.1:{port}" for port in self.ports)
        return [f"--runner={RUNNER}", f"--environment_config={addresses}",
                f"--direct_num_workers={len(self.ports)}"]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def start(workers: int = 0) -> WarmPool:
    """A pool of ``workers`` processes (0: one per core)."""
    return WarmPool(workers or os.cpu_count() or 1)


def _runner_class():
    import grpc
    from apache_beam.options.pipeline_options import PortableOptions
    from apache_beam.portability.api import beam_fn_api_pb2_grpc
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.transforms import environments

    class Dispatcher(beam_fn_api_pb2_grpc.BeamFnExternalWorkerPoolServicer):
        """Hands each StartWorker to the next pool process (one per worker handler of the stage)."""

        def __init__(self, addresses):
            self._stubs = itertools.cycle([beam_fn_api_pb2_grpc.BeamFnExternalWorkerPoolStub(
                grpc.insecure_channel(address)) for address in addresses])

        def StartWorker(self, request, context):
            return next(self._stubs).StartWorker(request)

        def StopWorker(self, request, context):
            return next(self._stubs).StopWorker(request)

    class WarmPoolRunner(fn_runner.FnApiRunner):
        def run_pipeline(self, pipeline, options):
            from apache_beam.options.pipeline_options import SetupOptions

            addresses = (options.view_as(PortableOptions).environment_config or "").split(",")
            # TFX stages the user module as a wheel (--extra_package); the FnApiRunner stages nothing,
            # so the workers are told where it is (Transform's workers unpickle functions of it).
            packages = [os.path.abspath(p) for p in options.view_as(SetupOptions).extra_packages or []]
            server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
            beam_fn_api_pb2_grpc.add_BeamFnExternalWorkerPoolServicer_to_server(Dispatcher(addresses), server)
            port = server.add_insecure_port("127.0.0.1:0")
            server.start()
            self._default_environment = environments.ExternalEnvironment(
                f"127.0.0.1:{port}", params={EXTRA_PACKAGES_PARAM: ",".join(packages)})
            try:
                return super().run_pipeline(pipeline, options)
            finally:
                server.stop(0)

    return WarmPoolRunner


def __getattr__(name):  # Beam imports RUNNER by name; Beam itself is imported only then
    if name == "WarmPoolRunner":
        return _runner_class()
    raise AttributeError(name)


def serve(port: int) -> None:
    import importlib

    import grpc
    from apache_beam.portability.api import beam_fn_api_pb2_grpc

    from tfx_kfp.runtime.beam_worker_pool import InstallingWorkerPool

    class LocalPackagesPool(InstallingWorkerPool):
        """Puts the job's wheels (pure Python, TFX's user-module wheels) on ``sys.path`` before a harness starts."""

        def StartWorker(self, start_worker_request, context):
            for path in filter(None, start_worker_request.params.get(EXTRA_PACKAGES_PARAM, "").split(",")):
                if path not in sys.path:
                    sys.path.insert(0, path)
                    importlib.invalidate_caches()
            return super().StartWorker(start_worker_request, context)

    for module in PRELOAD:
        importlib.import_module(module)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    beam_fn_api_pb2_grpc.add_BeamFnExternalWorkerPoolServicer_to_server(LocalPackagesPool(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print(f"{READY} on 127.0.0.1:{port}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
