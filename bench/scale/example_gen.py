"""ExampleGen alone on TFX's taxi CSV at 150k / 1.5M rows: without Beam (the default now) vs TFX's
CsvExampleGen executor on Beam in memory (the default before), and whether their splits hold the same
examples.

    uv run python bench/scale/example_gen.py --sizes 150k [--compare] [--out bench/results/scale_example_gen.json]

Each run is a fresh process (``bench.scale.example_gen_one``) measured by ``bench.measured_run``: wall
from spawn to exit, CPU seconds, peak RSS of the largest process and of the tree. ``--compare`` reads
both outputs back and checks, split by split, that the multisets of examples are equal (TFX's records
in their deterministic serialization, ours as written; see tests/executors/test_example_gen_fast.py).
One progress line per run; one result line at the end.
"""

import argparse
import collections
import datetime
import glob
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)
from bench.measured_run import run_measured  # noqa: E402
from bench.pipeline_measure import machine, versions, write_results  # noqa: E402
from bench.scale.measure import SIZES, make_data  # noqa: E402

PATHS = {"without_beam": [], "tfx_beam_in_memory": ["--direct_running_mode=in_memory"]}


def split_examples(examples_dir: str, canonical: bool) -> dict:
    """{split folder: Counter of serialized examples} (``canonical``: re-serialized deterministically)."""
    import tensorflow as tf

    splits = {}
    for folder in sorted(glob.glob(os.path.join(examples_dir, "Split-*"))):
        files = sorted(glob.glob(os.path.join(folder, "*")))
        records = (r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP"))
        splits[os.path.basename(folder)] = collections.Counter(
            tf.train.Example.FromString(r).SerializeToString(deterministic=True) if canonical else r
            for r in records)
    return splits


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="150k", help=f"Comma-separated, of {list(SIZES)}.")
    parser.add_argument("--paths", default=",".join(PATHS), help=f"Comma-separated, of {list(PATHS)}.")
    parser.add_argument("--compare", action="store_true", help="Check the two outputs hold the same examples.")
    parser.add_argument("--out", default=os.path.join(REPO, "bench", "results", "scale_example_gen.json"))
    parser.add_argument("--workdir", help="Data and outputs (default: a new temp folder).")
    args = parser.parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="tfx-kfp-example-gen-bench-")
    results = {"command": "uv run python bench/scale/example_gen.py " + " ".join(argv or sys.argv[1:]),
               "machine": machine(), "versions": versions(), "runs": [], "comparisons": [],
               "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
    for size in args.sizes.split(","):
        data = make_data(workdir, size)
        outs = {}
        for path in args.paths.split(","):
            run_dir = os.path.join(workdir, f"{size}-{path}")
            outs[path] = os.path.join(run_dir, "examples")
            print(f"{size} ({data[1]} rows) {path}: running (load {os.getloadavg()[0]:.2f})", flush=True)
            run = run_measured("bench.scale.example_gen_one", {"data_root": data[0], "out": outs[path],
                                                                "beam_pipeline_args": PATHS[path]},
                               run_dir, f"example_gen {size} {path}")
            record = {"size": size, "rows": data[1], "input_bytes": data[2], "path": path,
                      "wall_s": round(run["wall_s"], 1), "cpu_s": round(run["cpu_s"], 1),
                      "import_s": round(run["result"]["import_s"], 1),
                      "example_gen_s": round(run["result"]["example_gen_s"], 1),
                      "peak_rss_mib": round(run["peak_rss_mib"]), "peak_tree_rss_mib": round(run["peak_tree_rss_mib"]),
                      "others_cpu_s": round(run["others_cpu_s"], 1), "load_before": run["load_before"],
                      "load_after": run["load_after"], "splits": run["result"]["splits"]}
            results["runs"].append(record)
            write_results(args.out, results)
            print(f"{size} {path}: ExampleGen {record['example_gen_s']} s (process {record['wall_s']} s, CPU "
                  f"{record['cpu_s']} s, peak RSS {record['peak_rss_mib']} MiB, tree {record['peak_tree_rss_mib']} MiB)",
                  flush=True)
        if args.compare and len(outs) == 2:
            ours, theirs = split_examples(outs["without_beam"], False), split_examples(outs["tfx_beam_in_memory"], True)
            same = {split: ours.get(split) == theirs.get(split) for split in sorted(set(ours) | set(theirs))}
            counts = {split: sum(c.values()) for split, c in ours.items()}
            results["comparisons"].append({"size": size, "rows_per_split": counts, "identical_per_split": same})
            write_results(args.out, results)
            print(f"{size}: examples per split identical: {same}; rows {counts}", flush=True)
    results["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    write_results(args.out, results)
    times = "; ".join(f"{r['size']} {r['path']} {r['example_gen_s']} s" for r in results["runs"])
    same = all(all(c["identical_per_split"].values()) for c in results["comparisons"])
    print(f"scale_example_gen: {times}" + (f"; identical: {same}" if results["comparisons"] else "")
          + f" -> {args.out}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
