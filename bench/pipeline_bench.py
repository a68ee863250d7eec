"""Benchmark: the penguin pipeline with tfx-kfp's local runners vs TFX's own LocalDagRunner.

    uv run python bench/pipeline_bench.py [--repeats N] [--out docs/benchmarks.md]
                                          [--beam-modes preset,multi_processing] [--configs ...]

Every run is a fresh Python process (``bench/pipeline/children.py``) timed from spawn to
exit, imports included: the number a user waits for. All configurations read the same
CSV folder and module file and use the same Beam args. Each run must bless and push a
SavedModel, or the benchmark stops. Runs are interleaved (the configuration order
rotates every repeat) so that load from other users of the machine spreads over all
of them; load averages and the CPU time other processes used are recorded per run.

This process imports neither TensorFlow nor TFX.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata as importlib_metadata

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CHILD = os.path.join(HERE, "pipeline", "children.py")

CONFIGS = {
    "inprocess": {"label": "tfx-kfp `--runner inprocess`", "system": "tfx-kfp", "runner": "inprocess"},
    "subprocess": {"label": "tfx-kfp `--runner subprocess`", "system": "tfx-kfp", "runner": "subprocess"},
    "localdag": {"label": "TFX `LocalDagRunner`", "system": "tfx-local-dag-runner"},
    # The same LocalDagRunner pipeline, its classes imported from their modules instead of `tfx.v1`.
    "localdag-modules": {"label": "TFX `LocalDagRunner`, module imports", "system": "tfx-local-dag-runner",
                         "module_imports": True},
}
DEFAULT_CONFIGS = "inprocess,subprocess,localdag,localdag-modules"
# Overhead phases timed from log lines: name -> (first words of the start line, of the end line).
PHASES = {
    "TFX sdist builds": ("Attempting to infer TFX Python dependency", "Added --extra_package"),
    "module wheel builds": ("Generating ephemeral wheel", "Successfully built user code wheel"),
    "module wheel pip installs": ("Installing '", "Successfully installed '"),
}
PHASE_PROCESSES = {  # each phase runs one Python process with this in its command line
    "TFX sdist builds": "setup.py sdist",
    "module wheel builds": "bdist_wheel",
    "module wheel pip installs": "pip install",
}
MULTI_PROCESSING_ARGS = ["--direct_running_mode=multi_processing", "--direct_num_workers=0"]
STAGES = ["ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Trainer", "Evaluator",
          "Pusher"]
VERSIONED = ["tfx", "kfp", "tensorflow", "apache-beam", "tensorflow-transform", "tensorflow-model-analysis",
             "tensorflow-data-validation", "tfx-bsl", "ml-metadata", "keras"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
KFP_START = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) - \w+ - Executing task '([^']+)'")
KFP_END = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) - \w+ - Task '([^']+)' finished with status (\w+)")
# Log lines with a time: ours from children.py, kfp.local's, and KFP's executor's (tasks in subprocesses).
TIMED_LINES = [
    (re.compile(r"^BENCH_LOG (\d+\.\d+) (.*)"), lambda t, near: float(t)),
    (re.compile(r"^\s*(\d\d:\d\d:\d\d\.\d{3}) - \w+ - (.*)"), lambda t, near: clock_to_epoch(t, near)),
    (re.compile(r"^\s*\[KFP Executor (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+\]: (.*)"),
     lambda t, near: datetime.datetime.strptime(t, "%Y-%m-%d %H:%M:%S,%f").timestamp()),
]


def stage_name(task: str) -> str:
    """kfp task ``example-gen`` / TFX node ``CsvExampleGen`` → ``ExampleGen``."""
    key = task.replace("-", "").replace("_", "").lower()
    key = key[len("csv"):] if key.startswith("csvexamplegen") else key
    for stage in STAGES:
        if key == stage.lower():
            return stage
    return task


# ------------------------------------------------------------------------ machine


def cpu_busy_seconds() -> float:
    """Seconds of CPU time all processes on the machine have used (from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def machine() -> dict:
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "ram_gib": psutil.virtual_memory().total / 2**30,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def versions() -> dict:
    found = {}
    for name in VERSIONED:
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------------- one run


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants, and which processes exist."""

    def __init__(self, pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_bytes = 0
        self.pythons = {}  # (pid, create_time) -> command line, for the Python processes seen in the tree
        self.stop = threading.Event()

    def run(self):
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self.stop.is_set():
            total = 0
            try:
                procs = [root] + root.children(recursive=True)
            except psutil.NoSuchProcess:
                break
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                    if "python" in proc.name().lower():
                        key = (proc.pid, proc.create_time())
                        if key not in self.pythons:
                            self.pythons[key] = " ".join(proc.cmdline()[1:4])[:160]
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            self.stop.wait(self.interval)


def clock_to_epoch(hms: str, near: float) -> float:
    """``HH:MM:SS.mmm`` (local time, as kfp.local logs it) → epoch seconds, on the day of ``near``."""
    day = datetime.datetime.fromtimestamp(near).date()
    when = datetime.datetime.combine(day, datetime.datetime.strptime(hms, "%H:%M:%S.%f").time()).timestamp()
    return when + 86400 if when < near - 3600 else when


def run_one(config_key: str, beam_args, workdir: str, tag: str, spec_extra: dict) -> dict:
    """Runs one configuration as a fresh process; returns its measurements. Raises SystemExit on failure."""
    config = CONFIGS[config_key]
    os.makedirs(workdir)
    spec = dict(spec_extra, system=config["system"], runner=config.get("runner"),
                module_imports=bool(config.get("module_imports")),
                beam_pipeline_args=list(beam_args),
                pipeline_root=os.path.join(workdir, "pipeline_root"),
                serving_base_dir=os.path.join(workdir, "serving_model", "penguin"),
                mlmd_path=os.path.join(workdir, "metadata.sqlite"))
    log_path = os.path.join(workdir, "run.log")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    load_before, busy_before = os.getloadavg(), cpu_busy_seconds()
    print(f"{tag} start (load {loadavg()})", flush=True)
    spawned = time.time()
    proc = subprocess.Popen([sys.executable, CHILD, json.dumps(spec)], cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    sampler = TreeSampler(proc.pid)
    sampler.start()
    marks, starts, tasks, result, statuses = {}, {}, {}, None, {}
    phase_open, phases = {}, {name: [] for name in PHASES}
    with open(log_path, "w") as log:
        for raw in proc.stdout:
            log.write(raw)
            line = ANSI.sub("", raw.rstrip("\n"))
            parts = line.split()
            event = None
            if line.startswith("BENCH_MARK "):
                marks[parts[1]] = float(parts[2])
            elif line.startswith("BENCH_RESULT "):
                result = json.loads(line[len("BENCH_RESULT "):])
            elif line.startswith("BENCH_TASK "):
                event = (parts[1], parts[2], float(parts[3]), "SUCCESS")
            elif KFP_START.match(line):
                m = KFP_START.match(line)
                event = ("start", m.group(2), clock_to_epoch(m.group(1), spawned), "")
            elif KFP_END.match(line):
                m = KFP_END.match(line)
                event = ("end", m.group(2), clock_to_epoch(m.group(1), spawned), m.group(3))
            for pattern, to_epoch in TIMED_LINES:
                m = pattern.match(line)
                if m:
                    for name, (begin, end) in PHASES.items():
                        if m.group(2).startswith(begin):
                            phase_open[name] = to_epoch(m.group(1), spawned)
                        elif m.group(2).startswith(end) and name in phase_open:
                            phases[name].append(to_epoch(m.group(1), spawned) - phase_open.pop(name))
                    break
            if event:
                kind, task, when, status = event
                stage = stage_name(task)
                if kind == "start":
                    starts[stage] = when
                    print(f"{tag}   {when - spawned:6.1f} s  {stage} ...", flush=True)
                elif stage in starts:
                    tasks[stage] = when - starts[stage]
                    statuses[stage] = status
                    print(f"{tag}   {when - spawned:6.1f} s  {stage} {status.lower()} in {tasks[stage]:.1f} s",
                          flush=True)
    _, wait_status, usage = os.wait4(proc.pid, 0)
    wall = time.time() - spawned
    proc.returncode = os.waitstatus_to_exitcode(wait_status)
    sampler.stop.set()
    sampler.join()
    cpu = usage.ru_utime + usage.ru_stime
    others = cpu_busy_seconds() - busy_before - cpu
    if proc.returncode != 0 or not result or not result.get("ok"):
        with open(log_path) as f:
            tail = f.read()[-4000:]
        raise SystemExit(f"{tag} FAILED (exit {proc.returncode}, result {result}); log {log_path}; tail:\n{tail}")
    failed = [s for s, st in statuses.items() if st != "SUCCESS"]
    if failed or set(tasks) != set(STAGES):
        raise SystemExit(f"{tag} FAILED: stage times {tasks}, statuses {statuses}; log {log_path}")
    run = {
        "config": config_key,
        "wall": wall,
        "pipeline": result["pipeline_seconds"],
        "to_import": marks.get("imported", spawned) - spawned,
        "python_start": marks.get("start", spawned) - spawned,
        "cpu": cpu,
        "others_cpu": max(0.0, others),
        "maxrss_mib": usage.ru_maxrss / 1024,  # KiB on Linux: the largest single process of the tree
        "tree_rss_mib": sampler.peak_bytes / 2**20,
        "pythons": len(sampler.pythons),
        "python_cmdlines": sorted(sampler.pythons.values()),
        "load_before": load_before[0],
        "load_after": os.getloadavg()[0],
        "accuracy": result.get("accuracy"),
        "pushed": result.get("pushed_destination"),
        "tasks": tasks,
        "phases": {name: [len(v), sum(v)] for name, v in phases.items()},  # count, seconds
        "log": log_path,
    }
    acc = f"{run['accuracy']:.3f}" if run["accuracy"] is not None else "?"
    print(f"{tag} ok: wall {wall:.1f} s, in-pipeline {run['pipeline']:.1f} s, cpu {cpu:.0f} s, "
          f"peak RSS {run['maxrss_mib']:.0f} MiB (tree {run['tree_rss_mib']:.0f} MiB), "
          f"{run['pythons']} python procs, accuracy {acc}, pushed {run['pushed']} (load {loadavg()})", flush=True)
    return run


# ----------------------------------------------------------------------- report


def median(values):
    return statistics.median(values) if values else float("nan")


def summarize(runs):
    """Per configuration: medians and maxima over its runs."""
    by_config = {}
    for run in runs:
        by_config.setdefault(run["config"], []).append(run)
    summary = {}
    for key, rs in by_config.items():
        summary[key] = {
            "walls": [r["wall"] for r in rs],
            "wall": median([r["wall"] for r in rs]),
            "pipeline": median([r["pipeline"] for r in rs]),
            "cpu": median([r["cpu"] for r in rs]),
            "maxrss": max(r["maxrss_mib"] for r in rs),
            "tree_rss": max(r["tree_rss_mib"] for r in rs),
            "pythons": max(r["pythons"] for r in rs),
            "to_import": median([r["to_import"] for r in rs]),
            "stages": {s: median([r["tasks"][s] for r in rs]) for s in STAGES},
            "phases": {p: (max(r["phases"][p][0] for r in rs), median([r["phases"][p][1] for r in rs]))
                       for p in PHASES},
            "phase_processes": {p: max(sum(PHASE_PROCESSES[p] in c for c in r["python_cmdlines"]) for r in rs)
                                for p in PHASES},
            "accuracy": median([r["accuracy"] for r in rs if r["accuracy"] is not None]),
            "load": median([(r["load_before"] + r["load_after"]) / 2 for r in rs]),
            "others_cpu": median([r["others_cpu"] for r in rs]),
        }
    return summary


def ratio(summary, a, b):
    if a in summary and b in summary:
        return summary[a]["wall"] / summary[b]["wall"]
    return None


def phase(x, name):
    """(count, median seconds) of an overhead phase for a configuration's summary."""
    return x["phases"][name]


def why_text(s) -> str:
    """The explanation, with this run's numbers."""
    if not {"inprocess", "subprocess", "localdag"} <= set(s):
        return ""
    ip, sp, ld = s["inprocess"], s["subprocess"], s["localdag"]
    lm = s.get("localdag-modules")
    ip_sum, sp_sum, ld_sum = (sum(x["stages"].values()) for x in (ip, sp, ld))
    sdist_n, sdist_s = phase(sp, "TFX sdist builds")  # every task a fresh process: all of them are logged
    wheel_n, wheel_s = phase(ld, "module wheel builds")
    pip_n, pip_s = phase(ld, "module wheel pip installs")
    lines = [
        f"**Processes.** inprocess runs all 8 tasks in its one Python process; subprocess starts one more Python "
        f"process per task (8), each importing TensorFlow, Beam and TFX again; LocalDagRunner runs every "
        f"component in its one process too, but starts {wheel_n} `setup.py bdist_wheel` (the module file as a "
        f"wheel, at pipeline start) and {pip_n} `pip install --target` of that wheel (Transform and Trainer). "
        f"Every configuration runs `setup.py sdist` of TFX itself in each Beam stage ({sdist_n} in the subprocess runs, "
        f"{sdist_s / max(sdist_n, 1):.1f} s each): TFX adds it as `--extra_package` for remote Beam workers even "
        f"when the in-memory DirectRunner does not use it. Peak RSS is similar (one process holds TensorFlow "
        f"either way).",
        f"**subprocess vs the rest.** Stage times add up to {ip_sum:.0f} s inprocess, {sp_sum:.0f} s subprocess "
        f"and {ld_sum:.0f} s LocalDagRunner. The subprocess runner's extra {sp_sum - ip_sum:.0f} s is process "
        f"start-up and imports, about {(sp_sum - ip_sum) / (len(STAGES) - 1):.0f} s for each of the 7 tasks that "
        f"import TensorFlow (SchemaGen: {sp['stages']['SchemaGen']:.1f} s vs {ip['stages']['SchemaGen']:.1f} s "
        f"inprocess; Pusher, which imports no TensorFlow: {sp['stages']['Pusher']:.1f} s).",
        f"**inprocess vs LocalDagRunner: imports.** inprocess imports only what each executor needs, inside its "
        f"first task (ExampleGen {ip['stages']['ExampleGen']:.1f} s, work included). The LocalDagRunner process "
        f"needs {ld['to_import']:.1f} s from spawn to `from tfx import v1` done"
        + (f" ({lm['to_import']:.1f} s importing the same classes from their modules, which leaves out "
           f"`tfx.v1.extensions` and its google-cloud-aiplatform; that variant's median wall is "
           f"{lm['wall']:.0f} s)" if lm else "")
        + f", before CsvExampleGen's {ld['stages']['ExampleGen']:.1f} s.",
        f"**inprocess vs LocalDagRunner: per stage.** Transform {ip['stages']['Transform']:.1f} s vs "
        f"{ld['stages']['Transform']:.1f} s and Trainer {ip['stages']['Trainer']:.1f} s vs "
        f"{ld['stages']['Trainer']:.1f} s: LocalDagRunner's wheel builds and pip installs take {wheel_s + pip_s:.1f} s "
        f"(each `pip` is a fresh interpreter); tfx-kfp hands TFX's executors the module file directly. "
        f"StatisticsGen {ip['stages']['StatisticsGen']:.1f} s vs {ld['stages']['StatisticsGen']:.1f} s and "
        f"Evaluator {ip['stages']['Evaluator']:.1f} s vs {ld['stages']['Evaluator']:.1f} s run the same TFX "
        f"executors. What kfp.local adds per task (executor input/output JSON, log streaming) is small: "
        f"SchemaGen, ExampleValidator and Pusher take {ip['stages']['SchemaGen']:.1f}, "
        f"{ip['stages']['ExampleValidator']:.1f} and {ip['stages']['Pusher']:.1f} s inprocess.",
    ]
    return "\n".join(f"- {line}" for line in lines)


NOTES = """\
### Notes

- **Beam multi-processing mode** (`--beam-modes multi_processing`, the generic `training` pipeline's
  default) starts Beam worker processes in every Beam stage; each imports TensorFlow and TFX, which costs
  minutes per run on 2 cores for 342 rows. tfx-kfp packages the module file as a wheel for those workers,
  as TFX does. The penguin preset therefore runs Beam in memory.
- Transform runs with `disable_statistics=True` under LocalDagRunner too, matching tfx-kfp's transform
  (TFX's default would also compute pre- and post-transform statistics).
"""


def write_report(path, *, args, modes, results, started, finished, load_start, load_end, info, vers, beam_args):
    out = []
    add = out.append
    add("# Benchmarks")
    add("")
    add("## Penguin pipeline: tfx-kfp local runners vs TFX `LocalDagRunner`")
    add("")
    add(f"Generated by `uv run python bench/pipeline_bench.py {' '.join(args.argv)}`".rstrip() + ".")
    add("")
    add(f"- **Date:** {started:%Y-%m-%d %H:%M} – {finished:%H:%M} (local time); total benchmark time "
        f"{(finished - started).total_seconds() / 60:.1f} min.")
    add(f"- **Machine:** {info['cores']} cores ({info['cpu']}), {info['ram_gib']:.1f} GiB RAM, Linux "
        f"{info['kernel']}, Python {info['python']}. Shared with other users: load average (1/5/15 min) "
        f"{load_start} before, {load_end} after; per run below.")
    add("- **Versions:** " + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".")
    add("- **Workload:** `pipelines/penguin/data/` (342 rows), module file `pipelines/penguin/penguin_module.py`, "
        "train_steps 200, eval_steps 5, hash-bucket split 2:1 train/eval, EvalConfig: label `species`, "
        "signature `serving_examples`, ExampleCount + SparseCategoricalAccuracy (lower bound 0.9), overall slice; "
        "Pusher to a filesystem folder; LocalDagRunner with a fresh SQLite MLMD and caching off. Every run "
        "asserted: blessed, and a SavedModel pushed.")
    add("- **Method:** each run is a fresh process timed from spawn to exit (imports included); runs interleaved "
        "across configurations. *Peak RSS* is the largest single process of the run's process tree "
        "(`ru_maxrss` from `wait4`); *tree RSS* is the largest sum over the tree, sampled every 0.5 s. *CPU* is "
        "user+system time of the tree; *others' CPU* is what the rest of the machine used meanwhile "
        "(from /proc/stat), a measure of interference.")
    add("")
    for mode in modes:
        runs = results[mode]
        s = summarize(runs)
        add(f"### Beam args `{' '.join(beam_args[mode])}`" + (" (the penguin preset's)" if mode == "preset" else ""))
        add("")
        add("| configuration | runs: wall s | **median wall s** | median in-pipeline s | median CPU s | peak RSS MiB "
            "| peak tree RSS MiB | Python procs seen¹ | eval accuracy | median load |")
        add("|---|---|---|---|---|---|---|---|---|---|")
        for key in CONFIGS:
            if key in s:
                x = s[key]
                add(f"| {CONFIGS[key]['label']} | {', '.join(f'{w:.1f}' for w in x['walls'])} | **{x['wall']:.1f}** "
                    f"| {x['pipeline']:.1f} | {x['cpu']:.0f} | {x['maxrss']:.0f} | {x['tree_rss']:.0f} "
                    f"| {x['pythons']} | {x['accuracy']:.3f} | {x['load']:.1f} |")
        add("")
        ratios = [f"tfx-kfp {a} / {CONFIGS[b]['label']} = **{ratio(s, a, b):.2f}**"
                  for b in ("localdag", "localdag-modules") for a in ("inprocess", "subprocess")
                  if ratio(s, a, b) is not None]
        if ratios:
            add("**Ratios (median wall):** " + "; ".join(ratios) + ".")
            add("")
        add("Median seconds per stage (from kfp.local's `Executing task` / `finished with status` lines and "
            "LocalDagRunner's `Component … is running/finished` lines):")
        add("")
        keys = [k for k in CONFIGS if k in s]
        add("| stage | " + " | ".join(CONFIGS[k]["label"] for k in keys) + " |")
        add("|---" * (len(keys) + 1) + "|")
        for stage in STAGES:
            add(f"| {stage} | " + " | ".join(f"{s[k]['stages'][stage]:.1f}" for k in keys) + " |")
        add("| sum of stages | " + " | ".join(f"{sum(s[k]['stages'].values()):.1f}" for k in keys) + " |")
        add("| spawn → imports done (LocalDagRunner: TFX imported) | "
            + " | ".join(f"{s[k]['to_import']:.1f}" for k in keys) + " |")
        def phase_cell(x, name):
            logged, seconds = phase(x, name)
            seen = x["phase_processes"][name]
            return f"{logged}, {seconds:.1f}" if seen <= logged else f"{logged} logged ({seen} seen²), {seconds:.1f}"

        for name in PHASES:
            add(f"| in stages: {name} (count, s) | " + " | ".join(phase_cell(s[k], name) for k in keys) + " |")
        add("")
        add("<details><summary>Every run</summary>")
        add("")
        add("| # | configuration | wall s | in-pipeline s | CPU s | others' CPU s | peak RSS MiB | load before → after |")
        add("|---|---|---|---|---|---|---|---|")
        for i, r in enumerate(runs, 1):
            add(f"| {i} | {CONFIGS[r['config']]['label']} | {r['wall']:.1f} | {r['pipeline']:.1f} | {r['cpu']:.0f} "
                f"| {r['others_cpu']:.0f} | {r['maxrss_mib']:.0f} | {r['load_before']:.2f} → {r['load_after']:.2f} |")
        add("")
        add("</details>")
        add("")
        if mode == modes[0]:
            why = why_text(s)
            if why:
                add("#### Why")
                add("")
                add(why)
                add("")
    add("¹ Python processes seen by sampling the process tree every 0.5 s; short-lived ones can be missed.  ")
    add("² Phase times come from log lines; where fewer starts were logged than processes seen, the seconds "
        "cover only the logged ones.")
    add("")
    add(NOTES)
    with open(path, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")


# ------------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="Runs per configuration (default 2).")
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"), help="Markdown report path.")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help=f"Comma-separated subset of {', '.join(CONFIGS)}.")
    parser.add_argument("--beam-modes", default="preset",
                        help="Comma-separated: preset (the penguin preset's BEAM_PIPELINE_ARGS) and/or "
                             "multi_processing (--direct_running_mode=multi_processing --direct_num_workers=0).")
    parser.add_argument("--multi-processing-configs", default="inprocess,localdag,localdag-modules",
                        help="Configurations to run in multi_processing mode (default: inprocess,localdag).")
    parser.add_argument("--workdir", help="Where runs write logs and outputs (default: a new temp folder).")
    parser.add_argument("--keep", action="store_true", help="Keep every run's pipeline outputs (logs are always kept).")
    args = parser.parse_args(argv)
    args.argv = argv
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    for value, allowed, flag in ((args.configs, CONFIGS, "--configs"),
                                 (args.multi_processing_configs, CONFIGS, "--multi-processing-configs"),
                                 (args.beam_modes, ("preset", "multi_processing"), "--beam-modes")):
        unknown = [v for v in value.split(",") if v not in allowed]
        if unknown:
            parser.error(f"{flag}: unknown {unknown}; expected some of {list(allowed)}")
    return args


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from tfx_kfp.pipelines import penguin  # kfp + our component specs; no TensorFlow

    beam_args = {"preset": list(penguin.BEAM_PIPELINE_ARGS), "multi_processing": MULTI_PROCESSING_ARGS}
    spec_extra = {
        "data_root": penguin.DATA_DIR,
        "module_file": penguin.MODULE_FILE,
        "label_key": penguin.LABEL_KEY,
        "train_steps": 200,
        "eval_steps": 5,
        "accuracy_threshold": 0.9,
    }
    defaults = penguin.penguin_defaults("local")
    for key in ("train_steps", "eval_steps", "accuracy_threshold", "label_key"):
        assert defaults[key] == spec_extra[key], f"penguin preset's {key} is {defaults[key]}, not {spec_extra[key]}"
    assert defaults["data_root"] == spec_extra["data_root"]

    modes = args.beam_modes.split(",")
    plan = []
    for mode in modes:
        keys = args.configs.split(",")
        if mode == "multi_processing":
            keys = [k for k in keys if k in args.multi_processing_configs.split(",")]
        for repeat in range(args.repeats):
            shift = repeat % len(keys)
            plan += [(mode, repeat, k) for k in keys[shift:] + keys[:shift]]
    workdir = args.workdir or tempfile.mkdtemp(prefix="tfx-kfp-pipeline-bench-")
    os.makedirs(workdir, exist_ok=True)
    info, vers = machine(), versions()
    started, load_start = datetime.datetime.now(), loadavg()
    print(f"pipeline_bench: {len(plan)} runs ({', '.join(modes)}; {args.configs}; {args.repeats} each), "
          f"outputs under {workdir}; {info['cores']} cores, load {load_start}", flush=True)
    results = {mode: [] for mode in modes}
    for i, (mode, repeat, key) in enumerate(plan, 1):
        tag = f"[{i}/{len(plan)} {key} {mode} #{repeat + 1}]"
        run_dir = os.path.join(workdir, f"{i:02d}-{key}-{mode}")
        results[mode].append(run_one(key, beam_args[mode], run_dir, tag, spec_extra))
        if not args.keep:
            for sub in ("pipeline_root", "serving_model", "metadata.sqlite"):
                target = os.path.join(run_dir, sub)
                if os.path.isdir(target):
                    shutil.rmtree(target, ignore_errors=True)
                elif os.path.exists(target):
                    os.remove(target)
    finished, load_end = datetime.datetime.now(), loadavg()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_report(args.out, args=args, modes=modes, results=results, started=started, finished=finished,
                 load_start=load_start, load_end=load_end, info=info, vers=vers, beam_args=beam_args)
    with open(os.path.join(workdir, "runs.json"), "w") as f:
        json.dump(results, f, indent=1)
    s = summarize(results[modes[0]])
    parts = [f"{k} {s[k]['wall']:.0f} s" for k in CONFIGS if k in s]
    ratios = [f"{k}/localdag {ratio(s, k, 'localdag'):.2f}x" for k in ("inprocess", "subprocess")
              if ratio(s, k, "localdag") is not None]
    total = (finished - started).total_seconds() / 60
    print(f"RESULT ({modes[0]}, median wall of {args.repeats}): " + ", ".join(parts)
          + ("; " + ", ".join(ratios) if ratios else "") + f"; all runs pushed a blessed model; "
          f"{total:.1f} min; report {os.path.relpath(args.out)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
