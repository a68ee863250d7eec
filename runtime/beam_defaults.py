"""The Beam mode a Beam stage runs in when the pipeline gives no Beam args (no heavy imports).

The rule, decided at run time by each Beam stage's executor (ExampleGen, StatisticsGen, Transform,
Evaluator) from the bytes of its input and the cores it may use (``available_cores``):

- ``beam_pipeline_args`` given (not empty): used as given, always;
- otherwise the DirectRunner **in memory**, unless the machine has at least
  ``MULTI_PROCESSING_MIN_CORES`` cores *and* the input is larger than the largest input at which
  in-memory was measured to win (``IN_MEMORY_MEASURED_UP_TO``, per kind of input); then
  **multi-processing** with one worker per core it may use, or, where this process has a **warm
  pool** (``runtime/beam_warm_pool.py``: the in-process local runner starts one with the run), that
  pool's workers, which imported TensorFlow and TFX already. Only the stages in ``WARM_POOL_ABOVE``
  take a warm pool, above the input given there.

Measured (docs/scale.md, docs/benchmarks.md "Scaling", bench/scale/), each stage alone on 2 cores,
TFX's taxi CSV repeated, with bytecode compiled (scripts/setup.sh; without it each worker process
recompiled TensorFlow and TFX, and multi-processing lost at every size): Transform 24.7 s in memory
vs 32.0 s multi-processing at 150k rows, 131.6 s vs 82.8 s at 1.5M; the Evaluator 18.3 s vs 23.8 s,
then 115.3 s vs 68.1 s. So the Examples threshold is the 150k-row artifact. The CSV threshold is the
largest input measured before (1.5M rows, ExampleGen + StatisticsGen on Beam 210 s in memory vs
304 s); by default those two stages run without Beam on one machine.
"""

import os
from typing import Callable, Iterable, List, Optional

IN_MEMORY_ARGS = ["--direct_running_mode=in_memory"]


def multi_processing_args(cores: int) -> List[str]:
    return ["--direct_running_mode=multi_processing", f"--direct_num_workers={cores}"]


# Largest input of each kind at which in-memory was measured to win (taxi rows, 2 cores): the CSV files
# ExampleGen reads, and the gzipped TFRecord Examples artifact the later stages read.
IN_MEMORY_MEASURED_UP_TO = {
    "files": 192_281_200,  # 1,500,200 rows: ≈ 100 × TFX's taxi data/simple/data.csv (1,922,812 bytes; header once)
    "examples": 5_492_982,  # 150,020 rows: ExampleGen's output (in memory lost at 1.5M rows, 54,901,259 bytes)
}
MULTI_PROCESSING_MIN_CORES = 2
# Stage -> the Examples artifact above which it takes a warm pool. The Evaluator: largest at which in
# memory was measured to win against a pool of 2 processes, each stage alone on 2 cores: 7.9 s in memory
# vs 8.7-9.0 s on the pool at 15,002 taxi rows (this artifact), 18.1 s vs 13.0-13.4 s at 150,020.
# Transform gained less at 150k (21.0 s vs 19.0 s), and in a run its turn comes before the pool has
# imported: it takes the pool only instead of multi-processing.
WARM_POOL_ABOVE = {"transform": IN_MEMORY_MEASURED_UP_TO["examples"], "evaluator": 562_823}
# A local run starts a warm pool only for input files larger than this: TFX's taxi CSV at 15,002 rows,
# whose Examples artifact is the Evaluator's threshold above (a run on less would start it for nothing).
WARM_POOL_MIN_INPUT_BYTES = 1_922_812
# Beam args the pipeline parameter ``beam_pipeline_args`` defaults to: empty = this rule, per stage.
DEFAULT_BEAM_PIPELINE_ARGS: List[str] = []


def choose(input_bytes: int, kind: str, cores: Optional[int], stage: str = "",
           warm_pool: Optional[Callable[[], Optional[List[str]]]] = None) -> List[str]:
    """The default Beam args for stage ``stage``'s input of ``input_bytes`` of ``kind`` ("files" or
    "examples"); ``warm_pool`` returns a ready warm pool's args, or None where there is none."""
    if kind not in IN_MEMORY_MEASURED_UP_TO:
        raise ValueError(f"beam_defaults.choose: kind must be one of {sorted(IN_MEMORY_MEASURED_UP_TO)}, got {kind!r}")
    cores = cores or 1
    if cores < MULTI_PROCESSING_MIN_CORES:
        return list(IN_MEMORY_ARGS)
    if warm_pool and stage in WARM_POOL_ABOVE and input_bytes > WARM_POOL_ABOVE[stage]:
        pool_args = warm_pool()
        if pool_args:
            return pool_args
    if input_bytes > IN_MEMORY_MEASURED_UP_TO[kind]:
        return multi_processing_args(cores)
    return list(IN_MEMORY_ARGS)


def rule_decides(beam_pipeline_args: Optional[List[str]]) -> bool:
    """Whether the stage runs by this rule (no Beam args given), so on this machine's DirectRunner either
    way: there ExampleGen reads CSV without Beam (components/example_gen/fast_csv.py), with these cores."""
    return not beam_pipeline_args


def available_cores() -> int:
    """The cores this process may use: the machine's, less what its CPU affinity and its cgroup's CPU
    quota (a container's or a Kubernetes pod's CPU limit, which ``os.cpu_count()`` ignores) leave it,
    as joblib's loky counts them (``LOKY_MAX_CPU_COUNT`` lowers it further)."""
    from joblib.externals.loky import cpu_count

    return cpu_count()


def local_workers(cores: Optional[int] = None) -> int:
    """Worker processes for work done on this machine without Beam: one per core it may use."""
    return available_cores() if cores is None else max(1, cores)


def size_of(paths: Iterable[str]) -> int:
    """Bytes of the files under ``paths`` (files or folders, followed through links); 0 for what is not
    a local path (an object-store URI: its size is not looked up, so it counts as small)."""
    total = 0
    for path in paths:
        if os.path.isfile(path):
            total += os.path.getsize(path)
        for folder, _, files in os.walk(path, followlinks=True):
            total += sum(os.path.getsize(os.path.join(folder, name)) for name in files
                         if os.path.isfile(os.path.join(folder, name)))
    return total


def resolve(beam_pipeline_args: Optional[List[str]], inputs: Iterable[str], kind: str,
            cores: Optional[int] = None, stage: str = "") -> List[str]:
    """The Beam args stage ``stage`` runs with: ``beam_pipeline_args`` if given, else ``choose`` for its
    inputs, with this process's warm pool if it has one."""
    if beam_pipeline_args:
        return list(beam_pipeline_args)
    from tfx_kfp.runtime import beam_warm_pool

    inputs = list(inputs)
    cores = available_cores() if cores is None else cores
    input_bytes = size_of(inputs)
    chosen = choose(input_bytes, kind, cores, stage, beam_warm_pool.prestarted_args)
    print(f"beam: beam_pipeline_args not given; {input_bytes} bytes of input ({kind}) on {cores} cores: "
          f"{' '.join(chosen)} (rule: tfx_kfp/runtime/beam_defaults.py)", flush=True)
    return chosen


def workers_on_this_machine(beam_pipeline_args: List[str]) -> bool:
    """True when Beam's workers run this environment on this machine: the DirectRunner (the default
    runner), in memory, in threads or in subprocesses of this interpreter."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    runner = PipelineOptions(list(beam_pipeline_args)).view_as(StandardOptions).runner
    return runner is None or str(runner).lower() in ("direct", "directrunner")


def workers_in_this_process(beam_pipeline_args: List[str]) -> bool:
    """True when Beam runs the pipeline in this process: the DirectRunner (the default runner) in memory."""
    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions

    return workers_on_this_machine(beam_pipeline_args) and \
        PipelineOptions(list(beam_pipeline_args)).view_as(DirectOptions).direct_running_mode == "in_memory"
