"""Turns ``bench/cache_measure.py``'s JSON into the Markdown table of docs/benchmarks.md."""

import json
import sys

LABELS = {"tfx-kfp": "tfx-kfp `run --local` (in-process)", "localdag": "TFX `LocalDagRunner`, `enable_cache=True`"}


def table(results: dict) -> str:
    lines = ["| system | cold run | after editing only the Trainer module | reused from the cache |",
             "|---|---:|---:|---|"]
    for system, runs in results["systems"].items():
        warm = runs["trainer-edited"]
        reused = sorted(task for task, state in warm["states"].items() if state == "cached")
        lines.append(f"| {LABELS.get(system, system)} | {runs['cold']['wall_s']:.0f} s | {warm['wall_s']:.0f} s "
                     f"| {len(reused)} of {len(warm['states'])}: {', '.join(reused) or 'none'} |")
    return "\n".join(lines)


def main(path: str) -> int:
    with open(path) as f:
        results = json.load(f)
    print(f"Measured {results['started']} to {results['finished']} on {results['machine']['cores']} cores.\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
