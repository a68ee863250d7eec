"""ExampleGen → StatisticsGen → Transform of the penguin chain, on local files or through object storage.

``run_local`` is the reference: Beam's in-process DirectRunner on local paths.
``python -m tests._support.object_store OUT`` is the task on a remote Beam engine
(run it inside the test bed's network namespace: scripts/scale/in-netns.sh, or in a
container of the bed's image: scripts/scale/in-task-container.sh): the artifacts have
``minio://`` URIs in the bed's bucket, under a fresh prefix, as on a KFP cluster; the
input CSV and the schema are uploaded first, and after the run the outputs are read
back from the object store into ``OUT`` (``OUT/summary.json`` says what the task saw
locally). ``python -m tests._support.object_store --local OUT`` is ``run_local`` (for
the reference run of a stack this host cannot load, in a container of its image).
"""

import glob
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from typing import Dict, List

from kfp.dsl import HTML, Markdown

from tfx_kfp.components import types
from tests._support import chain

SCHEMA_FIXTURE = os.path.join(chain.FIXTURES, "schema")
DATA_ARTIFACTS = ("examples", "statistics", "transform_graph", "transformed_examples")


def remote_beam_args() -> List[str]:
    """Beam args for the test bed's job service and worker pool (S3 settings come from the environment).

    ``--sdk_container_image`` names the workers' image, which holds TFX: without it TFX stages an
    sdist of itself for the workers, which they could only install from the network.
    """
    return ["--runner=PortableRunner", f"--job_endpoint={os.environ['SCALE_JOB_ENDPOINT']}",
            "--environment_type=EXTERNAL", f"--environment_config={os.environ['SCALE_WORKER_POOL']}",
            f"--sdk_container_image={os.environ['SCALE_IMAGE']}"]


def run_stages(data_root: str, schema, artifacts: Dict[str, object], beam_args: List[str], reports: str) -> None:
    """Runs the three executors as their KFP components would, on the given artifacts."""
    from tfx_kfp.components.example_gen import executor as example_gen
    from tfx_kfp.components.statistics_gen import executor as statistics_gen
    from tfx_kfp.components.transform import executor as transform

    os.makedirs(reports, exist_ok=True)
    example_gen.run(data_root=data_root, examples=artifacts["examples"], input_format="csv", label_key="species",
                    train_hash_buckets=2, eval_hash_buckets=1, beam_pipeline_args=beam_args, input_pattern="",
                    span_range=[], input_fingerprint="")
    statistics_gen.run(examples=artifacts["examples"], statistics=artifacts["statistics"],
                       report=HTML(uri=os.path.join(reports, "statistics.html")), beam_pipeline_args=beam_args)
    transform.run(examples=artifacts["examples"], schema=schema, module_source=chain.module_source(),
                  transform_graph=artifacts["transform_graph"], transformed_examples=artifacts["transformed_examples"],
                  report=Markdown(uri=os.path.join(reports, "transform.md")), custom_config="{}",
                  beam_pipeline_args=beam_args)


def _artifacts(root: str) -> Dict[str, object]:
    kinds = {"examples": types.Examples, "statistics": types.ExampleStatistics,
             "transform_graph": types.TransformGraph, "transformed_examples": types.Examples}
    return {name: kinds[name](uri=f"{root}/{name}") for name in DATA_ARTIFACTS}


def run_local(out: str) -> str:
    """The reference run (in-process DirectRunner, local files); returns the folder of its outputs."""
    artifacts = _artifacts(out)
    run_stages(chain.PENGUIN_DATA, types.Schema(uri=SCHEMA_FIXTURE), artifacts, chain.BEAM_ARGS,
               os.path.join(out, "reports"))
    return out


def _upload(s3, local_dir: str, bucket: str, prefix: str) -> None:
    for path in glob.glob(os.path.join(local_dir, "*")):
        s3.upload_file(path, bucket, f"{prefix}/{os.path.basename(path)}")


def _download(s3, bucket: str, prefix: str, local_dir: str) -> int:
    """Copies every object under ``prefix`` to ``local_dir`` (boto3 directly, not our code); returns the count."""
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/")
            for o in page.get("Contents", []) if not o["Key"].endswith("/")]
    for key in keys:
        target = os.path.join(local_dir, key[len(prefix) + 1:])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        s3.download_file(bucket, key, target)
    return len(keys)


def run_remote(out: str) -> dict:
    """The task on the remote engine; writes the outputs read back from the object store under ``out``."""
    import boto3

    marker = os.path.join(tempfile.gettempdir(), f"task-file-{uuid.uuid4().hex}")
    with open(marker, "w") as f:
        f.write("only the task can see this file\n")
    s3 = boto3.client("s3")
    bucket = os.environ["SCALE_BUCKET"]  # the bed's (mounted, where it mounts one); a fresh prefix per run
    prefix = f"task-{uuid.uuid4().hex[:10]}"
    root = f"minio://{bucket}/{prefix}/run"
    _upload(s3, chain.PENGUIN_DATA, bucket, f"{prefix}/data")
    _upload(s3, SCHEMA_FIXTURE, bucket, f"{prefix}/run/schema")
    artifacts = _artifacts(root)
    started = time.monotonic()
    try:
        run_stages(f"minio://{bucket}/{prefix}/data", types.Schema(uri=f"{root}/schema"), artifacts,
                   remote_beam_args(), os.path.join(out, "reports"))
        seconds = round(time.monotonic() - started, 1)
        local_files = {name: sorted(os.path.relpath(p, artifacts[name].path) for p in
                                    glob.glob(os.path.join(artifacts[name].path, "**"), recursive=True)
                                    if os.path.isfile(p)) for name in DATA_ARTIFACTS}
        read_back = {name: _download(s3, bucket, f"{prefix}/run/{name}", os.path.join(out, name))
                     for name in DATA_ARTIFACTS}
    finally:
        shutil.rmtree(f"/minio/{bucket}/{prefix}", ignore_errors=True)  # the task's local artifact paths
    for name in DATA_ARTIFACTS:
        with open(os.path.join(out, f"{name}.metadata.json"), "w") as f:
            json.dump(artifacts[name].metadata, f, sort_keys=True)
    summary = {"bucket": bucket, "prefix": prefix, "task_local_files": local_files, "read_back_files": read_back,
               "task_file": marker, "stages_seconds": seconds,
               "object_store_mount": os.environ.get("TFX_KFP_OBJECT_STORE_MOUNT", "")}
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    return summary


if __name__ == "__main__":
    if sys.argv[1] == "--local":
        run_local(sys.argv[2])
    else:
        print(json.dumps(run_remote(sys.argv[1]), indent=1))
