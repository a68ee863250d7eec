"""Markdown tables from ``bench/scale/measure.py``'s JSON; with ``--into FILE``, replaces the part of FILE
between this script's markers.

    uv run python bench/scale/report.py bench/results/scale_pipeline.json [--into docs/benchmarks.md]
        [--pending 1.5M]

One table of wall time per size and Beam mode with the ratio tfx-kfp / LocalDagRunner, then seconds
per stage, peak RSS and CPU use per run. ``--pending SIZE`` adds a row saying SIZE is still to be
measured (the lead's full run). Reads only the JSON; imports nothing heavy.
"""

import argparse
import json
import os
import re
import sys

BEGIN, END = "<!-- BEGIN bench/scale/report.py -->", "<!-- END bench/scale/report.py -->"
SIZE_ORDER = ("15k", "150k", "1.5M")
SYSTEMS = ("tfx-kfp", "localdag")


def _key(run: dict) -> tuple:
    size = SIZE_ORDER.index(run["size"]) if run["size"] in SIZE_ORDER else len(SIZE_ORDER)
    return size, run["mode"], SYSTEMS.index(run["system"]) if run["system"] in SYSTEMS else 9


def _stage_cell(stage: dict) -> str:
    if stage["seconds"] is None or stage["state"] not in ("done",):
        return stage["state"]
    return f"{stage['seconds']:.1f}"


def summary(doc: dict, pending=()) -> list:
    """Wall per (size, mode): tfx-kfp, LocalDagRunner, the ratio, and both stage sums."""
    runs = sorted(doc["runs"], key=_key)
    by = {(r["size"], r["mode"], r["system"]): r for r in runs}
    lines = ["| rows | Beam mode | tfx-kfp wall s | LocalDagRunner wall s | **ratio** tfx-kfp / LocalDagRunner "
             "| tfx-kfp: 8 stages s | LocalDagRunner: 8 stages s | data stages s (ExampleGen+StatisticsGen+"
             "Transform+Evaluator), tfx-kfp / LocalDagRunner | peak RSS MiB (largest process / tree), tfx-kfp "
             "| load before → after |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for size, mode in dict.fromkeys((r["size"], r["mode"]) for r in runs):
        ours, theirs = by.get((size, mode, "tfx-kfp")), by.get((size, mode, "localdag"))

        def stage_sum(run, names=None):
            if not run:
                return None
            return sum(s["seconds"] or 0.0 for name, s in run["stages"].items() if names is None or name in names)

        data = ("ExampleGen", "StatisticsGen", "Transform", "Evaluator")
        ratio = f"**{ours['wall_s'] / theirs['wall_s']:.2f}**" if ours and theirs else "—"
        rows = (ours or theirs)["rows"]
        cells = [f"{rows:,}", mode, f"{ours['wall_s']:.1f}" if ours else "—",
                 f"{theirs['wall_s']:.1f}" if theirs else "—", ratio,
                 f"{stage_sum(ours):.1f}" if ours else "—", f"{stage_sum(theirs):.1f}" if theirs else "—",
                 f"{stage_sum(ours, data):.1f} / {stage_sum(theirs, data):.1f}" if ours and theirs else "—",
                 f"{ours['peak_rss_mib']:,} / {ours['peak_tree_rss_mib']:,}" if ours else "—",
                 " ; ".join(f"{r['load_before']:.1f} → {r['load_after']:.1f}" for r in (ours, theirs) if r)]
        lines.append("| " + " | ".join(cells) + " |")
    for size in pending:
        lines.append(f"| {size} | in_memory, multi_processing | pending | pending | pending (the lead's run on an "
                     "idle machine) | | | | | |")
    return lines


def per_run(doc: dict) -> list:
    runs = sorted(doc["runs"], key=_key)
    stages = runs[0]["stages"].keys() if runs else []
    labels = doc.get("labels", {})
    head = ["rows", "Beam mode", "system", "wall s", "spawn → imported s", "CPU s", "cores used",
            "peak RSS MiB", "tree peak RSS MiB"] + list(stages) + ["other tasks s", "others' CPU s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        other = sum(r["other_tasks"].values())
        cells = [f"{r['rows']:,}", r["mode"], labels.get(r["system"], r["system"]), f"{r['wall_s']:.1f}",
                 f"{r['import_s']:.1f}", f"{r['cpu_s']:.0f}", f"{r['cores_used']:.2f}", f"{r['peak_rss_mib']:,}",
                 f"{r['peak_tree_rss_mib']:,}"] + [_stage_cell(s) for s in r["stages"].values()] + [
                 f"{other:.1f}" if r["other_tasks"] else "—", f"{r['others_cpu_s']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render(doc: dict, pending=()) -> str:
    machine = doc["machine"]
    head = [f"Command: `{doc['command']}`; {doc.get('started', '?')} → {doc.get('finished', '?')}; "
            f"{machine['cores']} cores ({machine['cpu']}), {machine['ram_gib']} GiB RAM; "
            f"tfx {doc['versions'].get('tfx')}, apache-beam {doc['versions'].get('apache-beam')}; "
            f"train_steps {doc['workload']['train_steps']}."] + [f"{note}" for note in doc.get("notes", [])] + [""]
    return "\n".join(head + summary(doc, pending) + ["", "Every run (seconds per stage from the runner's own "
                                                      "records):", ""] + per_run(doc)) + "\n"


def write_into(path: str, text: str) -> None:
    with open(path) as f:
        document = f.read()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(document):
        raise SystemExit(f"{path}: no {BEGIN} … {END} markers to replace")
    with open(path, "w") as f:
        f.write(pattern.sub(lambda _: f"{BEGIN}\n{text}{END}", document))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="JSON files of measure.py (runs are concatenated)")
    parser.add_argument("--into", help="Markdown file with the markers to replace")
    parser.add_argument("--pending", default="", help="comma-separated sizes still to measure, e.g. 1.5M")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    docs = []
    for path in args.results:
        with open(path) as f:
            docs.append(json.load(f))
    doc = {**docs[0], "runs": [run for d in docs for run in d["runs"]]}
    measured = {run["size"] for run in doc["runs"]}
    text = render(doc, [s for s in args.pending.split(",") if s and s not in measured])
    if args.into:
        write_into(args.into, text)
        print(f"scale_report: {len(doc['runs'])} runs into {os.path.abspath(args.into)}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
