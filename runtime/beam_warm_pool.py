"""A warm Beam worker pool for the Beam stages of one local in-process run.

The DirectRunner's multi-processing mode starts new worker processes in every Beam stage, and each
imports TensorFlow and TFX again. Here ``WarmPool(n)`` starts ``n`` worker processes once; each
imports TF/TFX/TFDV/TFT/TFMA up front and then serves Beam's worker-pool API with in-process
harnesses (``beam_worker_pool.InstallingWorkerPool``); a Beam stage uses them through Beam's
``EXTERNAL`` environment with ``pool.args``:

    --runner=tfx_kfp.runtime.beam_warm_pool.WarmPoolRunner
    --environment_config=127.0.0.1:<port>,127.0.0.1:<port> --direct_num_workers=2

``WarmPoolRunner`` is Beam's own FnApiRunner (what the DirectRunner runs batch pipelines on) with the
EXTERNAL environment as its default; a dispatcher in the stage's process hands the workers' start
requests to the pool processes in turn. The processes share this machine's filesystem, so artifacts
stay local paths (``object_store.LOCAL_RUNNERS``).

The in-process local runner starts one with the run (``prestart``, from ``local/prestart.py``), and
the Beam stages take it where ``runtime/beam_defaults.py`` says it wins. Its imports run in a thread
at the lowest priority (``IMPORT_NICENESS``), so that they take the core the run's one busy process
leaves free instead of sharing the stages' core; the threads that later run Beam work keep the
normal priority (on Linux a thread's niceness is its own; elsewhere the whole process stays niced).
"""

import contextlib
import importlib
import itertools
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from typing import List, Mapping, Optional

RUNNER = "tfx_kfp.runtime.beam_warm_pool.WarmPoolRunner"
# What TFX's Beam stages run in their workers: imported once per pool process.
PRELOAD = ("tensorflow", "tfx_bsl.public.tfxio", "tensorflow_data_validation", "tensorflow_transform.beam",
           "tensorflow_model_analysis", "tfx.components.example_gen.csv_example_gen.executor")
READY = "tfx-kfp warm pool ready"
IMPORT_NICENESS = 19
# Machines a run prestarts a pool on, by the cores this process may use: one process per core, each holding
# about 0.7 GiB through the run (measured on 2 cores); larger machines keep multi-processing's per-stage
# workers, which start in parallel there.
PRESTART_CORES = range(2, 5)
START_TIMEOUT_S = 600.0  # the imports of a process on a loaded 2-core machine, with room to spare
# StartWorker parameter: the job's --extra_package files (local paths; the pool shares this filesystem).
EXTRA_PACKAGES_PARAM = "tfx_kfp_extra_packages"


class WarmPool:
    """``workers`` pool processes on 127.0.0.1, started now (``env`` added to this environment);
    ``args`` are the Beam args that use them once ``wait_ready`` returns."""

    def __init__(self, workers: int, env: Optional[Mapping[str, str]] = None):
        self.logs = [tempfile.NamedTemporaryFile("w+", prefix="tfx-kfp-warm-pool-", suffix=".log", delete=False)
                     for _ in range(workers)]
        environment = {**os.environ, **(env or {})}
        self.processes = [subprocess.Popen([sys.executable, "-m", __spec__.name], stdout=log,
                                           stderr=subprocess.STDOUT, env=environment)
                          for log in self.logs]
        self.addresses: List[str] = []

    @staticmethod
    def _address(log_path: str) -> Optional[str]:
        """The address a process serves on, from its READY line (each binds a free port itself)."""
        with open(log_path) as f:
            return next((line.split()[-1] for line in f if line.startswith(READY)), None)

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Returns once every process serves; raises ``RuntimeError`` (naming its log) if one does not."""
        if self.addresses:
            return
        deadline = time.time() + timeout_s
        addresses = []
        for process, log in zip(self.processes, self.logs):
            while not (address := self._address(log.name)):
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"warm pool worker {process.pid} did not start (exit code "
                                       f"{process.returncode}; log {log.name})")
                time.sleep(0.1)
            addresses.append(address)
        self.addresses = addresses

    @property
    def args(self) -> List[str]:
        if not self.addresses:
            raise RuntimeError("the warm pool's args are known once wait_ready has returned")
        return [f"--runner={RUNNER}", f"--environment_config={','.join(self.addresses)}",
                f"--direct_num_workers={len(self.addresses)}"]

    def stop(self, keep_logs: bool = False) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.close()
            if not keep_logs:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(log.name)


def start(workers: int = 0) -> WarmPool:
    """A ready pool of ``workers`` processes (0: one per core this process may use)."""
    from tfx_kfp.runtime.beam_defaults import available_cores

    pool = WarmPool(workers or available_cores())
    try:
        pool.wait_ready()
    except BaseException:
        pool.stop(keep_logs=True)
        raise
    return pool


_prestarted: Optional[WarmPool] = None


def prestart(env: Optional[Mapping[str, str]] = None) -> None:
    """Starts a pool, one process per core, for this process's later stages (``prestarted_args``), on a
    machine with ``PRESTART_CORES`` cores."""
    global _prestarted
    from tfx_kfp.runtime.beam_defaults import available_cores

    cores = available_cores()
    if _prestarted is None and cores in PRESTART_CORES:
        _prestarted = WarmPool(cores, env)


def discard_prestarted() -> None:
    """Stops the prestarted pool (the run ended)."""
    global _prestarted
    pool, _prestarted = _prestarted, None
    if pool is not None:
        pool.stop()


def prestarted_args() -> Optional[List[str]]:
    """The prestarted pool's Beam args once it serves; None without one, or when it failed to start
    (said on stderr: the stage then runs by the rule without a pool)."""
    global _prestarted
    if _prestarted is None:
        return None
    try:
        _prestarted.wait_ready()
    except RuntimeError as error:
        print(f"beam: the warm worker pool is not used: {error}", file=sys.stderr, flush=True)
        pool, _prestarted = _prestarted, None
        pool.stop(keep_logs=True)
        return None
    return _prestarted.args


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


def _import_at_low_priority() -> None:
    def preload():
        with contextlib.suppress(OSError):  # on Linux: this thread only
            os.setpriority(os.PRIO_PROCESS, 0, IMPORT_NICENESS)
        for module in PRELOAD:
            importlib.import_module(module)

    thread = threading.Thread(target=preload, name="warm-pool-imports")
    thread.start()
    thread.join()


def _exit_with_parent() -> None:
    """Ends this pool process when the process that started it is gone (killed without stopping it)."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="warm-pool-parent", daemon=True).start()


def serve() -> None:
    _exit_with_parent()
    _import_at_low_priority()
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

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    beam_fn_api_pb2_grpc.add_BeamFnExternalWorkerPoolServicer_to_server(LocalPackagesPool(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"{READY} on 127.0.0.1:{port}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    serve()
