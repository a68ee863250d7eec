"""Turns the JSON of ``bench/pipeline_measure.py`` into Markdown tables (numbers only; prose is in the docs).

    uv run python bench/pipeline_report.py bench/results/pipeline.json              # print the tables
    uv run python bench/pipeline_report.py bench/results/pipeline.json --into docs/benchmarks.md

``--into`` replaces what lies between the BEGIN and END markers below in that file and keeps the rest.
"""

import argparse
import json
import os
import statistics
import sys
from typing import Dict, List, Sequence

BEGIN = "<!-- BEGIN bench/pipeline_report.py -->"
END = "<!-- END bench/pipeline_report.py -->"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def seconds(value: float) -> str:
    return f"{value:.1f}"


def by_config(runs: List[dict], configs: Dict[str, str]) -> Dict[str, List[dict]]:
    """Runs per configuration, in the configurations' declared order."""
    grouped = {key: [run for run in runs if run["config"] == key] for key in configs}
    return {key: group for key, group in grouped.items() if group}


def summary_table(groups: Dict[str, List[dict]], configs: Dict[str, str], anchor: str) -> List[str]:
    anchor_wall = statistics.median(r["wall_s"] for r in groups[anchor]) if anchor in groups else None
    rows = []
    for key, runs in groups.items():
        wall = statistics.median(r["wall_s"] for r in runs)
        accuracies = [r["accuracy"] for r in runs if r["accuracy"] is not None]
        rows.append([
            configs[key], len(runs), ", ".join(seconds(r["wall_s"]) for r in runs), f"**{seconds(wall)}**",
            f"{wall / anchor_wall:.2f}" if anchor_wall else "—",
            seconds(statistics.median(r["pipeline_s"] for r in runs)),
            seconds(statistics.median(r["import_s"] for r in runs)),
            f"{statistics.median(r['cpu_s'] for r in runs):.0f}",
            f"{max(r['peak_rss_mib'] for r in runs):.0f}",
            f"{statistics.median(r['others_cpu_s'] for r in runs):.0f}",
            f"{statistics.median((r['load_before'] + r['load_after']) / 2 for r in runs):.2f}",
            f"{statistics.median(accuracies):.3f}" if accuracies else "—",
        ])
    header = ["configuration", "runs", "wall s (each run)", "median wall s",
              f"median wall / {configs[anchor]}", "median pipeline s", "median spawn → imported s",
              "median CPU s", "peak RSS MiB", "median others' CPU s", "median load", "median accuracy"]
    return table(header, rows)


def stage_table(groups: Dict[str, List[dict]], configs: Dict[str, str]) -> List[str]:
    stages = next(iter(groups.values()))[0]["stage_order"]
    medians = {key: {stage: statistics.median(r["stages"][stage] for r in runs) for stage in stages}
               for key, runs in groups.items()}
    rows = [[stage] + [seconds(medians[key][stage]) for key in groups] for stage in stages]
    rows.append(["sum of stages"] + [seconds(sum(medians[key].values())) for key in groups])
    return table(["median seconds per stage"] + [configs[key] for key in groups], rows)


def runs_table(runs: List[dict], configs: Dict[str, str]) -> List[str]:
    rows = [[i, configs[r["config"]], r["repeat"], seconds(r["wall_s"]), seconds(r["pipeline_s"]),
             f"{r['cpu_s']:.0f}", f"{r['others_cpu_s']:.0f}", f"{r['peak_rss_mib']:.0f}",
             f"{r['load_before']:.2f} → {r['load_after']:.2f}"] for i, r in enumerate(runs, 1)]
    return table(["#", "configuration", "repeat", "wall s", "pipeline s", "CPU s", "others' CPU s", "peak RSS MiB",
                  "load before → after"], rows)


def facts_table(results: dict) -> List[str]:
    m, w = results["machine"], results["workload"]
    rows = [
        ["command", f"`{results['command'].strip()}`"],
        ["started → finished", f"{results['started']} → {results['finished']}"],
        ["machine", f"{m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}, "
                    f"Python {m['python']}"],
        ["versions", ", ".join(f"{name} {version}" for name, version in results["versions"].items() if version)],
        ["workload", f"`{w['data_root']}`, `{w['module_file']}`, train_steps {w['train_steps']}, "
                     f"eval_steps {w['eval_steps']}, accuracy threshold {w['accuracy_threshold']}"],
    ]
    return table(["run", ""], rows)


def render(results: dict) -> str:
    configs, anchor = results["configs"], results["anchor"]
    lines = facts_table(results)
    modes = list(dict.fromkeys(run["beam_mode"] for run in results["runs"]))
    for mode in modes:
        runs = [run for run in results["runs"] if run["beam_mode"] == mode]
        groups = by_config(runs, configs)
        lines += ["", f"#### Beam args `{' '.join(results['workload']['beam_args'][mode])}` ({mode})", ""]
        lines += summary_table(groups, configs, anchor) + [""] + stage_table(groups, configs)
        lines += ["", "<details><summary>Every run</summary>", ""] + runs_table(runs, configs) + ["", "</details>"]
    return "\n".join(lines) + "\n"


def replace_between_markers(document: str, generated: str, path: str) -> str:
    if document.count(BEGIN) != 1 or document.count(END) != 1 or document.index(BEGIN) > document.index(END):
        raise SystemExit(f"{path}: needs exactly one {BEGIN} line followed by one {END} line")
    head, rest = document.split(BEGIN)
    _, tail = rest.split(END)
    return f"{head}{BEGIN}\n{generated}{END}{tail}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="JSON written by bench/pipeline_measure.py.")
    parser.add_argument("--into", help="Markdown file whose marked section receives the tables.")
    args = parser.parse_args(argv)
    with open(args.results) as f:
        generated = render(json.load(f))
    if not args.into:
        sys.stdout.write(generated)
        return 0
    with open(args.into) as f:
        updated = replace_between_markers(f.read(), generated, args.into)
    with open(args.into + ".partial", "w") as f:
        f.write(updated)
    os.replace(args.into + ".partial", args.into)
    return 0


if __name__ == "__main__":
    sys.exit(main())
