"""Measures the penguin pipeline on tfx-kfp's local runners and on TFX's LocalDagRunner; writes JSON.

    uv run python bench/pipeline_measure.py [--repeats N] [--configs inprocess,subprocess,localdag,...]
        [--beam-modes preset,multi_processing] [--out bench/results/pipeline.json]
    uv run python bench/pipeline_report.py bench/results/pipeline.json   # the Markdown tables

Every run is a fresh process (``bench.pipeline.run_one``) timed from spawn to exit, imports
included. Runs are interleaved (the configuration order rotates every repeat) so that load from
other users of the machine spreads over all of them. Each run must bless and push a SavedModel,
or the measuring stops. This process imports neither TensorFlow nor TFX.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
from importlib import metadata

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
from bench.measured_run import run_measured  # noqa: E402

RUN_ONE = "bench.pipeline.run_one"
CONFIGS = {
    "inprocess": {"label": "tfx-kfp `--runner inprocess`", "system": "tfx-kfp", "runner": "inprocess"},
    "subprocess": {"label": "tfx-kfp `--runner subprocess`", "system": "tfx-kfp", "runner": "subprocess"},
    "localdag": {"label": "TFX `LocalDagRunner`", "system": "tfx-local-dag-runner"},
    "localdag-modules": {"label": "TFX `LocalDagRunner`, module imports", "system": "tfx-local-dag-runner",
                         "module_imports": True},
}
ANCHOR = "localdag"
MULTI_PROCESSING_ARGS = ["--direct_running_mode=multi_processing", "--direct_num_workers=0"]
VERSIONED = ("tfx", "kfp", "tensorflow", "apache-beam", "tensorflow-transform", "tensorflow-model-analysis",
             "tensorflow-data-validation", "tfx-bsl", "ml-metadata", "keras")


def machine() -> dict:
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    return {"cores": os.cpu_count(), "cpu": model, "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "kernel": platform.release(), "python": platform.python_version()}


def versions() -> dict:
    found = {}
    for name in VERSIONED:
        for distribution in (name, f"{name}-cpu"):  # the image's CPU variant installs tensorflow-cpu
            try:
                found[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                found[name] = None
    return found


def workload() -> dict:
    """The penguin preset's settings; every configuration runs these."""
    from tfx_kfp.pipelines import penguin  # kfp and our component specs; no TensorFlow

    defaults = penguin.penguin_defaults("local")
    return {"data_root": penguin.DATA_DIR, "module_file": penguin.MODULE_FILE, "label_key": penguin.LABEL_KEY,
            "train_steps": defaults["train_steps"], "eval_steps": defaults["eval_steps"],
            "accuracy_threshold": defaults["accuracy_threshold"],
            "beam_args": {"preset": list(penguin.BEAM_PIPELINE_ARGS), "multi_processing": MULTI_PROCESSING_ARGS}}


def measure_one(key: str, beam_mode: str, work: dict, workdir: str) -> dict:
    """One configuration as a fresh process: wall, CPU and peak RSS of its process tree, and its own result."""
    config = CONFIGS[key]
    spec = {**work, "system": config["system"], "runner": config.get("runner"),
            "module_imports": bool(config.get("module_imports")), "beam_pipeline_args": work["beam_args"][beam_mode],
            "pipeline_root": os.path.join(workdir, "pipeline_root"),
            "serving_base_dir": os.path.join(workdir, "serving_model", "penguin"),
            "mlmd_path": os.path.join(workdir, "metadata.sqlite")}
    run = run_measured(RUN_ONE, spec, workdir, f"{key} ({beam_mode})")
    result, spawned = run["result"], run["spawned"]
    return {
        "config": key, "beam_mode": beam_mode, "wall_s": run["wall_s"], "cpu_s": run["cpu_s"],
        "peak_rss_mib": run["peak_rss_mib"],  # the largest single process of the tree
        "others_cpu_s": run["others_cpu_s"], "load_before": run["load_before"], "load_after": run["load_after"],
        "python_start_s": result["started"] - spawned, "import_s": result["imported"] - spawned,
        "pipeline_s": result["pipeline_seconds"], "stages": result["stages"], "stage_order": result["stage_order"],
        "other_tasks": result.get("other_tasks", {}),  # tasks beyond the eight TFX stages (tfx-kfp only)
        "accuracy": result["accuracy"], "blessed": result["blessed"], "pushed": result["pushed_destination"],
    }


def plan(configs, beam_modes, repeats, multi_processing_configs):
    """(beam mode, repeat, configuration) in run order: the configuration order rotates every repeat."""
    runs = []
    for mode in beam_modes:
        keys = [k for k in configs if mode != "multi_processing" or k in multi_processing_configs]
        for repeat in range(repeats):
            shift = repeat % len(keys)
            runs += [(mode, repeat + 1, k) for k in keys[shift:] + keys[:shift]]
    return runs


def write_results(path: str, results: dict) -> None:
    """Writes the results JSON whole or not at all."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".partial", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(path + ".partial", path)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2, help="Runs per configuration (default 2).")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"Comma-separated subset of {list(CONFIGS)}.")
    parser.add_argument("--beam-modes", default="preset", help="Comma-separated: preset (the penguin preset's "
                        "Beam args) and/or multi_processing (DirectRunner worker processes).")
    parser.add_argument("--multi-processing-configs", default="inprocess,localdag",
                        help="Configurations that also run in multi_processing mode.")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "pipeline.json"), help="JSON to write.")
    parser.add_argument("--workdir", help="Where runs write logs and outputs (default: a new temp folder).")
    parser.add_argument("--keep", action="store_true", help="Keep every run's outputs (logs are always kept).")
    args = parser.parse_args(argv)
    for flag, value, allowed in (("--configs", args.configs, CONFIGS),
                                 ("--multi-processing-configs", args.multi_processing_configs, CONFIGS),
                                 ("--beam-modes", args.beam_modes, ("preset", "multi_processing"))):
        unknown = [v for v in value.split(",") if v not in allowed]
        if unknown:
            parser.error(f"{flag}: unknown {unknown}; expected some of {list(allowed)}")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    work = workload()
    order = plan(args.configs.split(","), args.beam_modes.split(","), args.repeats,
                 args.multi_processing_configs.split(","))
    workdir = args.workdir or tempfile.mkdtemp(prefix="tfx-kfp-pipeline-bench-")
    started = datetime.datetime.now().astimezone()
    results = {
        "command": "uv run python bench/pipeline_measure.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "started": started.isoformat(timespec="seconds"), "finished": None,
        "machine": machine(), "versions": versions(),
        "workload": {**work, "data_root": os.path.relpath(os.path.realpath(work["data_root"]), REPO),
                     "module_file": os.path.relpath(os.path.realpath(work["module_file"]), REPO)},
        "configs": {key: CONFIGS[key]["label"] for key in CONFIGS}, "anchor": ANCHOR, "runs": [],
    }
    runs = results["runs"]
    for i, (mode, repeat, key) in enumerate(order, 1):
        run_dir = os.path.join(workdir, f"{i:02d}-{key}-{mode}")
        run = measure_one(key, mode, work, run_dir)
        runs.append({"repeat": repeat, **run})
        results["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        write_results(args.out, results)  # after every run: an interrupted measuring keeps what it has
        print(f"[{i}/{len(order)}] {key} {mode}: wall {run['wall_s']:.1f} s, pipeline {run['pipeline_s']:.1f} s, "
              f"peak RSS {run['peak_rss_mib']:.0f} MiB", flush=True)
        if not args.keep:
            for output in ("pipeline_root", "serving_model", "metadata.sqlite"):
                path = os.path.join(run_dir, output)
                if os.path.isdir(path):
                    shutil.rmtree(path)
                elif os.path.isfile(path):
                    os.remove(path)
    print(f"pipeline_measure: {len(runs)} runs written to {args.out} (logs under {workdir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
