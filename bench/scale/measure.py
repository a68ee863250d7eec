"""Scaling benchmark: TFX's chicago-taxi pipeline at 15k/150k/1.5M rows, tfx-kfp vs TFX LocalDagRunner; JSON.

    uv run python bench/scale/measure.py --sizes 15k,150k [--modes default,in_memory,multi_processing]
        [--systems tfx-kfp,localdag] [--out bench/results/scale_pipeline.json]
    uv run python bench/scale/report.py bench/results/scale_pipeline.json --into docs/benchmarks.md

Data: TFX's ``data/simple/data.csv`` (15,002 rows) repeated (header once) into one CSV per size; module:
TFX's ``taxi_utils_native_keras.py``; both systems read the same folder with the same Beam args. Every run
is a fresh process (``bench.scale.taxi_one``) timed from spawn to exit. Per run: wall, CPU seconds of the
process tree (``wait4``), peak RSS of its largest process (``ru_maxrss``) and of the whole tree (sampled
every 0.5 s), per-stage seconds from the runner's own records, the 1-minute load before and after. The
JSON is rewritten after every run; a progress line per run, one result line at the end. This process
imports neither TensorFlow nor TFX.
"""

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)
from bench.measured_run import run_measured  # noqa: E402
from bench.pipeline_measure import machine, versions, write_results  # noqa: E402

SIZES = {"15k": 1, "150k": 10, "1.5M": 100}  # repeats of TFX's 15,002-row CSV
SYSTEMS = {"tfx-kfp": "tfx-kfp", "localdag": "tfx-local-dag-runner"}
LABELS = {"tfx-kfp": "tfx-kfp in-process", "localdag": "TFX `LocalDagRunner`"}
MODES = {
    "in_memory": ["--direct_running_mode=in_memory"],
    "multi_processing": ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    # tfx-kfp: the pipeline's own default (runtime/beam_defaults.py; for CSV, ExampleGen without Beam,
    # components/example_gen/fast_csv.py); LocalDagRunner: no args (Beam's DirectRunner default, in memory)
    "default": None,
    "warm_pool": "warm_pool",  # runtime/beam_warm_pool.py: one pool per run, a worker process per core
}
TAXI = os.path.join("examples", "chicago_taxi_pipeline")


def taxi_files() -> tuple:
    """(data.csv, taxi_utils_native_keras.py) of the installed tfx, found without importing it."""
    import importlib.util

    root = os.path.join(os.path.dirname(importlib.util.find_spec("tfx").origin), TAXI)
    return os.path.join(root, "data", "simple", "data.csv"), os.path.join(root, "taxi_utils_native_keras.py")


def make_data(root: str, size: str) -> tuple:
    """A folder with one CSV of TFX's taxi rows repeated ``SIZES[size]`` times; (folder, rows, bytes)."""
    folder = os.path.join(root, f"taxi_{size}")
    path = os.path.join(folder, "data.csv")
    with open(taxi_files()[0]) as f:
        header, *rows = f.read().splitlines()
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        with open(path + ".partial", "w") as f:
            f.write(header + "\n")
            body = "\n".join(rows) + "\n"
            for _ in range(SIZES[size]):
                f.write(body)
        os.replace(path + ".partial", path)
    return folder, len(rows) * SIZES[size], os.path.getsize(path)


def measure_one(system: str, mode: str, size: str, data: tuple, workdir: str, train_steps: int) -> dict:
    spec = {"system": SYSTEMS[system], "data_root": data[0], "module_file": taxi_files()[1], "train_steps": train_steps,
            "eval_steps": 5, "beam_pipeline_args": MODES[mode],
            "pipeline_root": os.path.join(workdir, "pipeline_root"),
            "serving_base_dir": os.path.join(workdir, "serving_model", "taxi"),
            "mlmd_path": os.path.join(workdir, "metadata.sqlite")}
    run = run_measured("bench.scale.taxi_one", spec, workdir, f"{system} {mode} {size}")
    result, wall, cpu = run["result"], run["wall_s"], run["cpu_s"]
    return {"system": system, "mode": mode, "size": size, "rows": data[1], "input_bytes": data[2],
            "beam_pipeline_args": MODES[mode], "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "cores_used": round(cpu / wall, 2), "peak_rss_mib": round(run["peak_rss_mib"]),
            "peak_tree_rss_mib": round(run["peak_tree_rss_mib"]), "others_cpu_s": round(run["others_cpu_s"], 1),
            "load_before": run["load_before"], "load_after": run["load_after"],
            "import_s": round(result["imported"] - run["spawned"], 1), "pipeline_s": round(result["pipeline_seconds"], 1),
            "stages": result["stages"], "other_tasks": result["other_tasks"], "blessed": result["blessed"],
            "metrics": result["metrics"], "pushed": result["pushed_destination"]}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="15k,150k", help=f"Comma-separated, of {list(SIZES)}.")
    parser.add_argument("--modes", default="default", help=f"Comma-separated, of {list(MODES)} (default: default, "
                        "each system's own default; only there does tfx-kfp's ExampleGen run without Beam).")
    parser.add_argument("--systems", default="tfx-kfp,localdag", help=f"Comma-separated, of {list(SYSTEMS)}.")
    parser.add_argument("--train-steps", type=int, default=100, help="Trainer steps (default 100) at every size.")
    parser.add_argument("--out", default=os.path.join(REPO, "bench", "results", "scale_pipeline.json"))
    parser.add_argument("--append", action="store_true", help="Keep the runs (and notes) already in --out, add these.")
    parser.add_argument("--workdir", help="Data, logs and outputs (default: a new temp folder).")
    args = parser.parse_args(argv)
    for flag, value, allowed in (("--sizes", args.sizes, SIZES), ("--modes", args.modes, MODES),
                                 ("--systems", args.systems, SYSTEMS)):
        unknown = [v for v in value.split(",") if v not in allowed]
        if unknown:
            parser.error(f"{flag}: unknown {unknown}; expected some of {list(allowed)}")
    return args


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="tfx-kfp-scale-bench-")
    results = {"command": "uv run python bench/scale/measure.py " + " ".join(argv), "machine": machine(),
               "versions": versions(), "workload": {"csv": "tfx/" + TAXI + "/data/simple/data.csv, repeated",
                                                    "module": "tfx/" + TAXI + "/taxi_utils_native_keras.py",
                                                    "train_steps": args.train_steps, "eval_steps": 5},
               "labels": LABELS, "runs": []}
    if args.append and os.path.exists(args.out):
        with open(args.out) as f:
            previous = json.load(f)
        results["runs"], results["notes"] = previous["runs"], previous.get("notes", [])
    results["started"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    order = [(size, mode, system) for size in args.sizes.split(",") for mode in args.modes.split(",")
             for system in args.systems.split(",")]
    for i, (size, mode, system) in enumerate(order, 1):
        data = make_data(workdir, size)
        run_dir = os.path.join(workdir, f"{i:02d}-{size}-{mode}-{system}")
        print(f"[{i}/{len(order)}] {size} ({data[1]} rows) {mode} {system}: running "
              f"(load {os.getloadavg()[0]:.2f})", flush=True)
        run = measure_one(system, mode, size, data, run_dir, args.train_steps)
        results["runs"].append(run)
        results["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        write_results(args.out, results)
        stages = ", ".join(f"{k} {v['seconds']:.0f}" for k, v in run["stages"].items() if v["seconds"] is not None)
        print(f"[{i}/{len(order)}] {size} {mode} {system}: wall {run['wall_s']:.1f} s, CPU {run['cpu_s']:.0f} s, "
              f"peak RSS {run['peak_rss_mib']} MiB (tree {run['peak_tree_rss_mib']} MiB); {stages}", flush=True)
        for output in ("pipeline_root", "serving_model", "metadata.sqlite"):
            path = os.path.join(run_dir, output)
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else None
            os.remove(path) if os.path.isfile(path) else None
    walls = {(r["size"], r["mode"], r["system"]): r["wall_s"] for r in results["runs"]}
    ratios = [f"{size} {mode} {walls[size, mode, 'tfx-kfp'] / walls[size, mode, 'localdag']:.2f}x"
              for size, mode in dict.fromkeys((s, m) for s, m, _ in walls)
              if (size, mode, "tfx-kfp") in walls and (size, mode, "localdag") in walls]
    print(f"scale_measure: {len(order)} runs to {args.out}; wall tfx-kfp/LocalDagRunner: {'; '.join(ratios) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
