"""One ExampleGen run in a fresh process, for ``bench/scale/example_gen.py``.

    PYTHONPATH=<repository> python -m bench.scale.example_gen_one SPEC.json RESULT.json

SPEC: ``data_root``, ``out`` (the Examples folder) and ``beam_pipeline_args``: ``[]`` lets the rule of
runtime/beam_defaults.py decide, which for CSV means ExampleGen without Beam
(components/example_gen/fast_csv.py); ``["--direct_running_mode=in_memory"]`` runs TFX's CsvExampleGen
executor on Beam, in memory (what every run did before). RESULT: import and ExampleGen seconds, rows
and bytes per split.
"""

import glob
import json
import os
import sys
import time

STARTED = time.time()


def main(spec_path: str, result_path: str) -> int:
    with open(spec_path) as f:
        spec = json.load(f)
    from tfx_kfp.components.example_gen import executor
    from tfx_kfp.components.types import Examples

    imported = time.time()
    examples = Examples(uri=spec["out"], metadata={})
    executor.run(data_root=spec["data_root"], examples=examples, input_format="csv", label_key="tips",
                 train_hash_buckets=2, eval_hash_buckets=1, beam_pipeline_args=spec["beam_pipeline_args"],
                 input_pattern="", span_range=[], input_fingerprint="")
    finished = time.time()
    splits = {}
    for folder in sorted(glob.glob(os.path.join(spec["out"], "Split-*"))):
        files = sorted(glob.glob(os.path.join(folder, "*")))
        splits[os.path.basename(folder)] = {"files": len(files), "bytes": sum(map(os.path.getsize, files))}
    result = {"started": STARTED, "import_s": imported - STARTED, "example_gen_s": finished - imported,
              "splits": splits, "metadata": dict(examples.metadata)}
    with open(result_path + ".partial", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(result_path + ".partial", result_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
