"""Editing only the Trainer module, then re-running: tfx-kfp's task cache against TFX LocalDagRunner's.

    uv run python bench/cache_measure.py [--out bench/results/cache.json]
    uv run python bench/cache_report.py bench/results/cache.json       # the Markdown table

For each system, in fresh processes: a cold run (empty cache) of the penguin preset with a module
per component (Transform's and Trainer's, as TFX allows), then the Trainer module gets a comment
appended and the pipeline runs again with its cache on. Wall time is spawn to exit, imports
included; which stages came from the cache is read from each runner's own records (tfx-kfp's
run.json; TFX's ML Metadata executions).
"""

import argparse
import datetime
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LOCAL_DAG_CHILD = """
import json, sys
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration import metadata
from bench.pipeline import localdag
spec = json.load(open(sys.argv[1]))
tfx = localdag.tfx_api(public=True)
store = metadata_store.MetadataStore(metadata.sqlite_metadata_connection_config(spec["mlmd_path"]))
before = {e.id for e in store.get_executions()}
tfx.LocalDagRunner().run(localdag.tfx_pipeline(tfx, spec))
types = {t.id: t.name.rsplit(".", 1)[-1] for t in store.get_execution_types()}
states = {}
for execution in store.get_executions():
    if execution.id not in before:
        states[types[execution.type_id]] = metadata_store_pb2.Execution.State.Name(execution.last_known_state).lower()
json.dump(states, open(sys.argv[2], "w"))
"""


def _timed(command, cwd, log_path) -> float:
    with open(log_path, "w") as log:
        started = time.time()
        code = subprocess.run(command, cwd=cwd, env={**os.environ, "PYTHONPATH": REPO}, stdout=log,
                              stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise SystemExit(f"{command[:4]} failed with exit code {code}; see {log_path}")
    return time.time() - started


def tfx_kfp_run(work: str, label: str) -> dict:
    command = [sys.executable, "-m", "tfx_kfp.cli", "run", "--local", "--pipeline-root", os.path.join(work, "root"),
               "--transform-module-file", os.path.join(work, "transform_module.py"),
               "--trainer-module-file", os.path.join(work, "trainer_module.py"),
               "--param", f"serving_base_dir={os.path.join(work, 'serving')}"]
    wall = _timed(command, work, os.path.join(work, f"{label}.log"))
    newest = max(glob.glob(os.path.join(work, "root", "penguin-*")), key=os.path.getmtime)
    with open(os.path.join(newest, "run.json")) as f:
        record = json.load(f)
    return {"wall_s": wall, "states": {task: t["state"] for task, t in record["tasks"].items()}}


def local_dag_run(work: str, label: str, spec: dict) -> dict:
    spec_path, states_path = os.path.join(work, "spec.json"), os.path.join(work, f"{label}.states.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    wall = _timed([sys.executable, "-c", LOCAL_DAG_CHILD, spec_path, states_path], work,
                  os.path.join(work, f"{label}.log"))
    with open(states_path) as f:
        return {"wall_s": wall, "states": json.load(f)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(HERE, "results", "cache.json"))
    args = parser.parse_args(argv)
    sys.path.insert(0, REPO)
    from bench.pipeline_measure import machine, workload, write_results

    work = workload()
    root = tempfile.mkdtemp(prefix="tfx-kfp-cache-bench-")
    results = {"started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "machine": machine(), "systems": {}}
    for system in ("tfx-kfp", "localdag"):
        folder = os.path.join(root, system)
        os.makedirs(folder)
        for name in ("transform_module.py", "trainer_module.py"):
            shutil.copy(work["module_file"], os.path.join(folder, name))
        spec = {**work, "transform_module_file": os.path.join(folder, "transform_module.py"),
                "trainer_module_file": os.path.join(folder, "trainer_module.py"), "cache": True,
                "beam_pipeline_args": work["beam_args"]["preset"], "pipeline_root": os.path.join(folder, "root"),
                "serving_base_dir": os.path.join(folder, "serving"), "mlmd_path": os.path.join(folder, "mlmd.sqlite")}
        runs = {}
        for label in ("cold", "trainer-edited"):
            if label == "trainer-edited":
                with open(spec["trainer_module_file"], "a") as f:
                    f.write("\n# tuned: a comment is enough to change the Trainer's input\n")
            runs[label] = tfx_kfp_run(folder, label) if system == "tfx-kfp" else local_dag_run(folder, label, spec)
            print(f"{system} {label}: {runs[label]['wall_s']:.1f} s", flush=True)
        results["systems"][system] = runs
    results["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    write_results(args.out, results)
    print(f"cache_measure: written to {args.out} (logs under {root})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
