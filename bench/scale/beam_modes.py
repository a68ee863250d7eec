"""In-memory vs multi-process DirectRunner on the data stages, by input size (issue 10, the crossover).

ExampleGen then StatisticsGen (the data stages that need no user module) through tfx-kfp's
executors, each configuration in a fresh process, on: the penguin CSV (342 rows) and TFX's
chicago-taxi CSV (15,002 rows) repeated (1× and 10× by default; ``--taxi-repeats 100`` for 1.5M rows).

    uv run python bench/scale/beam_modes.py --out bench/results/scale_beam_modes.json

Prints one JSON line per run and writes them all to ``--out``. Numbers: wall seconds of the run's
process (imports included), seconds per stage, CPU seconds (the process and its Beam worker
processes), peak RSS of the largest single one of them.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODES = {
    "in_memory": ["--direct_running_mode=in_memory"],
    "multi_processing": ["--direct_running_mode=multi_processing", "--direct_num_workers=0"],
    "warm_pool": None,  # runtime/beam_warm_pool.py: one pool of one worker process per core for both stages
}


def taxi_csv() -> str:
    import tfx

    return os.path.join(os.path.dirname(tfx.__file__), "examples", "chicago_taxi_pipeline", "data", "simple",
                        "data.csv")


def make_inputs(root: str, repeats) -> dict:
    """{name: (data folder, label column, rows)}: penguin, taxi repeated (header once)."""
    penguin = os.path.join(REPO, "pipelines", "penguin", "data")
    with open(os.path.join(penguin, os.listdir(penguin)[0])) as f:
        inputs = {"penguin": (penguin, "species", sum(1 for line in f if line.strip()) - 1)}
    with open(taxi_csv()) as f:
        header, *rows = f.read().splitlines()
    for repeat in repeats:
        folder = os.path.join(root, f"taxi_x{repeat}")
        os.makedirs(folder)
        with open(os.path.join(folder, "data.csv"), "w") as f:
            f.write("\n".join([header] + rows * repeat) + "\n")
        inputs[f"taxi_x{repeat}"] = (folder, "tips", len(rows) * repeat)
    return inputs


def run_one(data_root: str, label: str, mode: str, out: str) -> dict:
    """Runs the two stages in this process; returns seconds per stage, CPU seconds (this process and
    its Beam worker processes) and the peak RSS of the largest of them."""
    from kfp.dsl import HTML

    from tfx_kfp.components import types
    from tfx_kfp.components.example_gen import executor as example_gen
    from tfx_kfp.components.statistics_gen import executor as statistics_gen

    seconds = {}
    pool, args = None, MODES[mode]
    if mode == "warm_pool":
        from tfx_kfp.runtime import beam_warm_pool

        start = time.perf_counter()
        pool = beam_warm_pool.start()
        args = pool.args
        seconds["pool_start"] = round(time.perf_counter() - start, 1)
    examples = types.Examples(uri=os.path.join(out, "examples"))
    try:
        start = time.perf_counter()
        example_gen.run(data_root=data_root, examples=examples, input_format="csv", label_key=label,
                        train_hash_buckets=2, eval_hash_buckets=1, beam_pipeline_args=args, input_pattern="",
                        span_range=[], input_fingerprint="")
        seconds["example_gen"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        statistics_gen.run(examples=examples, statistics=types.ExampleStatistics(uri=os.path.join(out, "statistics")),
                           report=HTML(uri=os.path.join(out, "statistics.html")), beam_pipeline_args=args)
        seconds["statistics_gen"] = round(time.perf_counter() - start, 1)
    finally:
        if pool:
            pool.stop()
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"stages_s": seconds,
            "cpu_s": round(own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime, 1),
            "peak_rss_mb": round(max(own.ru_maxrss, workers.ru_maxrss) / 1024)}


def measure(name: str, data: tuple, mode: str, root: str) -> dict:
    out = tempfile.mkdtemp(dir=root, prefix=f"{name}-{mode}-")
    result_file = os.path.join(out, "stages.json")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-W", "ignore", __file__, "--one", data[0], data[1], mode, out,
                           result_file], capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"{name} {mode} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    wall = time.perf_counter() - start
    with open(result_file) as f:
        run = json.load(f)
    return {"input": name, "rows": data[2], "mode": mode, "wall_s": round(wall, 1), **run,
            "cores_used": round(run["cpu_s"] / wall, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(REPO, "bench", "results", "scale_beam_modes.json"))
    parser.add_argument("--taxi-repeats", default="1,10", help="comma-separated; 100 gives 1.5M rows")
    parser.add_argument("--skip-penguin", action="store_true")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {list(MODES)}")
    parser.add_argument("--one", nargs=5, metavar=("DATA", "LABEL", "MODE", "OUT", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        data_root, label, mode, out, result_file = args.one
        with open(result_file, "w") as f:
            json.dump(run_one(data_root, label, mode, out), f)
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="tfx-kfp-beam-modes-") as root:
        inputs = make_inputs(root, [int(r) for r in args.taxi_repeats.split(",")])
        if args.skip_penguin:
            del inputs["penguin"]
        for name, data in inputs.items():
            for mode in args.modes.split(","):
                results.append(measure(name, data, mode, root))
                print(json.dumps(results[-1]), flush=True)
    results_doc = {"machine": {"cores": os.cpu_count()}, "runs": results}
    with open(args.out, "w") as f:
        json.dump(results_doc, f, indent=1)


if __name__ == "__main__":
    main()
