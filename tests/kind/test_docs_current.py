"""docs/kind.md and docs/scale.md say what the scripts print, the compiled graph and KFP 2.17.0 hold.

Issue 19 items 1, 3, 4 and 9. The KFP 2.17.0 facts used (read at tag 2.17.0, 4a3592cb…):
the object store is the Service ``seaweedfs`` with the legacy port 9000 mapped to 8333
(``manifests/kustomize/third-party/seaweedfs/base/seaweedfs/seaweedfs-service.yaml``), the launcher's
default endpoint is ``seaweedfs.kubeflow:9000`` (``backend/src/v2/objectstore/config.go`` line 29), and
the NetworkPolicy ``seaweedfs`` admits the ``kubeflow`` namespace's own pods; there is no ``minio-service``.
"""

import re

import yaml

from tests._support.cluster_files import REPO
from tfx_kfp.pipelines import compile_pipeline, penguin_pipeline

KIND_MD = (REPO / "docs" / "kind.md").read_text()
SCALE_MD = (REPO / "docs" / "scale.md").read_text()
ROW = re.compile(r"^\[\s*[\dm.]+s\] (?P<task>[\w-]+)\s+(?P<state>running|done|cached|skipped|failed)\b")


def code_blocks(text: str, language: str = None):
    """The fenced blocks of a Markdown text (of one language, if given), in order."""
    blocks, current, current_language = [], None, ""
    for line in text.splitlines():
        if line.strip().startswith("```"):
            if current is None:
                current, current_language = [], line.strip()[3:].strip()
            else:
                if language is None or current_language == language:
                    blocks.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_kind_md_sample_output_is_what_submit_and_run_pipeline_print(tmp_path):
    sample = next(block for block in code_blocks(KIND_MD) if block.startswith("submit: connecting"))
    assert "task pusher: SUCCEEDED" not in KIND_MD  # the old format, which run-pipeline.sh grepped for
    rows = [ROW.match(line) for line in sample.splitlines() if line.startswith("[")]
    assert rows and all(rows), sample
    assert sample.strip().splitlines()[-1].startswith("submit: run 'penguin ") and " SUCCEEDED in " in sample
    run_pipeline = (REPO / "scripts" / "kind" / "run-pipeline.sh").read_text()
    endings = next(block for block in code_blocks(KIND_MD) if block.startswith("kind/run-pipeline: ok: the Pusher"))
    for message in ("ok: the Pusher pushed version", "ok: the Pusher ran and found this exact model already pushed",
                    "NOTE: the run succeeded but nothing was pushed: the Pusher"):
        assert message in endings and message.split(": ", 1)[1][:30] in run_pipeline


def test_kind_md_run_graph_names_every_task_and_both_conditions(tmp_path):
    path = tmp_path / "pipeline.yaml"
    compile_pipeline(penguin_pipeline("kind"), str(path))
    spec = next(yaml.safe_load_all(path.read_text()))
    tasks = {task for component in [spec["root"], *spec["components"].values()] if "dag" in component
             for task in component["dag"]["tasks"]}
    graph = KIND_MD.split("**The run graph**", 1)[1].split("**Where artifacts live**", 1)[0]
    for task in tasks - {"condition-1", "condition-2"}:
        assert task in graph, task
    assert "`model-blessed`" in graph and "`serves-correctly`" in graph and "nested" in graph
    assert "<run id>/<task>/<random id>/<output name>" in KIND_MD  # driver.go: a uuid per execution


def test_scale_md_points_the_beam_engine_at_kfp_2_17s_object_store():
    manifests = [doc for block in code_blocks(SCALE_MD, "yaml") for doc in yaml.safe_load_all(block) if doc]
    assert manifests and {doc["metadata"]["namespace"] for doc in manifests} == {"kubeflow"}
    deployments = [doc for doc in manifests if doc["kind"] == "Deployment"]
    endpoints = {env["value"] for doc in deployments for container in doc["spec"]["template"]["spec"]["containers"]
                 for env in container.get("env", []) if env["name"] == "AWS_ENDPOINT_URL"}
    assert endpoints == {"http://seaweedfs.kubeflow:9000"}
    assert "minio-service:9000" not in SCALE_MD and "minio-service.kubeflow" not in SCALE_MD
    assert "NetworkPolicy `seaweedfs`" in SCALE_MD


def test_container_facing_docs_run_tfx_kfp_serve_on_all_interfaces():
    """``tfx-kfp serve`` binds 127.0.0.1: in a container behind a Service that is unreachable."""
    checked = 0
    for path in [*(REPO / "docs").glob("*.md"), REPO / "README.md"]:
        for block in code_blocks(path.read_text()):
            if "tfx-kfp serve" in block and re.search(r"docker run|kind: (Deployment|Pod)", block):
                checked += 1
                assert "--host 0.0.0.0" in block, f"{path.name}: {block}"
    for path in (REPO / "deploy").rglob("*.yaml"):  # TF Serving itself binds all interfaces
        text = path.read_text()
        if re.search(r"tfx-kfp[\"', ]+serve\b|tfx_kfp\.serving\.server", text):
            assert re.search(r"--host[= \"', ]+0\.0\.0\.0", text), path
    assert checked >= 1  # docs/security.md's docker run example
