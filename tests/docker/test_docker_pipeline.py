"""`tfx-kfp run --local --runner docker`: the compiled penguin YAML with every step in the runtime image.

kfp.local's DockerRunner starts one container of the image per task; the
Pusher writes a SavedModel version into a host folder, which this test then
loads inside the image and queries through its serving signature.
"""

import json
import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.docker

CSV = os.path.join(os.path.dirname(__file__), "..", "..", "pipelines", "penguin", "data", "penguins_processed.csv")

QUERY = r"""
import csv, json, sys
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
serve = model.signatures["serving_default"]
rows = list(csv.DictReader(open(sys.argv[2])))[::30]
keys = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]
scores = serve(**{k: tf.constant([float(r[k]) for r in rows]) for k in keys})["scores"].numpy()
print(json.dumps({"shape": list(scores.shape),
                  "correct": int(sum(int(s.argmax()) == int(r["species"]) for s, r in zip(scores, rows))),
                  "signatures": sorted(model.signatures)}))
"""


TASKS = ("example-gen", "statistics-gen", "schema-gen", "example-validator", "transform", "trainer", "evaluator",
         "infra-validator", "pusher")


def run_compiled_in_docker(tmp_path, compiled: str) -> subprocess.CompletedProcess:
    """``tfx-kfp run --local --runner docker`` of the compiled YAML ``compiled`` (in ``tmp_path``)."""
    return subprocess.run(
        [sys.executable, "-m", "tfx_kfp.cli", "run", "--local", "--runner", "docker", "--pipeline-file", compiled,
         "--pipeline-root", str(tmp_path / "pipeline-root")],
        cwd=tmp_path, capture_output=True, text=True, timeout=1200,
    )


def assert_pushed_a_servable_model(run: subprocess.CompletedProcess, serving_base: str, image: str) -> str:
    """The run blessed and pushed one version under ``serving_base`` that ``image`` loads and predicts with
    (as TF Serving would, from a read-only mount); returns that version's folder."""
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-6000:]
    last = run.stdout.strip().splitlines()[-1]
    assert "penguin (docker): succeeded" in last and "blessed" in last, last
    pushed = re.search(r"pushed version (\d+)", last)
    assert pushed, last
    for task in TASKS:
        assert re.search(rf"\b{task}\s+done\b", run.stdout), f"{task} did not run to completion"

    version = pushed.group(1)
    version_dir = os.path.join(serving_base, version)
    assert [v for v in os.listdir(serving_base) if v.isdigit()] == [version]
    assert os.path.isfile(os.path.join(version_dir, "saved_model.pb"))
    assert os.path.isdir(os.path.join(version_dir, "variables"))

    query = subprocess.run(
        ["docker", "run", "--rm", "--network", "none",
         "-v", f"{version_dir}:/models/penguin/{version}:ro", "-v", f"{os.path.abspath(CSV)}:/data/penguins.csv:ro",
         image, "python3", "-W", "ignore", "-c", QUERY, f"/models/penguin/{version}", "/data/penguins.csv"],
        capture_output=True, text=True, timeout=300,
    )
    assert query.returncode == 0, query.stderr[-3000:]
    result = json.loads(query.stdout.strip().splitlines()[-1])
    assert "serving_default" in result["signatures"]
    rows, classes = result["shape"]
    assert classes == 3 and rows >= 10
    assert result["correct"] >= 0.8 * rows, result
    return version_dir


def test_penguin_pipeline_in_docker_pushes_a_servable_model(runtime_image, tmp_path):
    subprocess.run([sys.executable, "-m", "tfx_kfp.cli", "compile", "--pipeline", "penguin", "--target", "local",
                    "-o", "p.yaml"], cwd=tmp_path, check=True, capture_output=True, timeout=300)
    run = run_compiled_in_docker(tmp_path, "p.yaml")
    assert_pushed_a_servable_model(run, str(tmp_path / "serving_model" / "penguin"), runtime_image)
