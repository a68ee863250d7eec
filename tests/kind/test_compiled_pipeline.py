"""The pipeline compiled for kind agrees with what the scripts deploy.

Image tag (what load-image.sh loads), PVC mount (what deploy/ creates),
parameters (where up.sh puts the data, where TF Serving looks for models).
"""

import re

import pytest
import yaml

from tfx_kfp import __version__, cli
from tfx_kfp.components.image import image_tag, source_digest
from tfx_kfp.pipelines import cluster

from tests._support.cluster_files import REPO, _serving, one, render, versions

SCRIPTS = REPO / "scripts" / "kind"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """`tfx-kfp compile --pipeline penguin --target kind`, as scripts/kind/run-pipeline.sh runs it."""
    path = tmp_path_factory.mktemp("kind") / "pipeline.yaml"
    assert cli.main(["compile", "--pipeline", "penguin", "--target", "kind", "-o", str(path)]) == 0
    spec, platform = list(yaml.safe_load_all(path.read_text()))
    return spec, platform


def test_every_task_runs_the_versioned_image_that_load_image_loads(compiled):
    spec, _ = compiled
    executors = spec["deploymentSpec"]["executors"]
    images = {e["container"]["image"] for e in executors.values()}
    assert images == {image_tag("cpu")}
    (image,) = images
    assert image.endswith(f":{__version__}-{source_digest()}") and not image.endswith(":latest")
    load = (SCRIPTS / "load-image.sh").read_text()
    assert 'tag="$(tfx_kfp image tag)"' in load and 'kind load docker-image "$tag"' in load
    # The components call the venv's python3 with the KFP package already in the image.
    for executor in executors.values():
        script = " ".join(executor["container"]["command"])
        assert "python3 -m kfp.dsl.executor_main" in script and "pip install" not in script


def test_every_task_mounts_the_model_store_claim_deploy_creates(compiled):
    spec, platform = compiled
    rendered = render()
    pvc = one(rendered, "PersistentVolumeClaim", cluster.MODEL_STORE_PVC_NAME)
    _, _, container, _ = _serving(rendered)
    serving_mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "model-store")
    k8s = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert set(k8s) == set(spec["deploymentSpec"]["executors"]), "every executor needs the mount"
    for name, config in k8s.items():
        (mount,) = config["pvcMount"]
        claim = mount.get("constant") or mount["pvcNameParameter"]["runtimeValue"]["constant"]
        assert claim == pvc["metadata"]["name"], name
        assert mount["mountPath"] == cluster.MODEL_STORE_MOUNT_PATH == serving_mount, name


def test_parameters_point_at_the_data_up_sh_copies_and_the_path_tf_serving_watches(compiled):
    spec, _ = compiled
    params = spec["root"]["inputDefinitions"]["parameters"]
    v = versions()
    mount = cluster.MODEL_STORE_MOUNT_PATH
    assert params["data_root"]["defaultValue"] == f"{mount}/{v['MODEL_STORE_DATA_SUBDIR']}" == cluster.CLUSTER_DATA_ROOT
    _, _, _, flags = _serving(render())
    assert params["serving_base_dir"]["defaultValue"] == f"{mount}/{v['MODEL_STORE_MODELS_SUBDIR']}" \
        == flags["model_base_path"]
    up = (SCRIPTS / "up.sh").read_text()  # (test_script_behaviour.py runs it)
    assert re.search(r'docker cp pipelines/penguin/data/penguins_processed\.csv '
                     r'"\$node:\$MODEL_STORE_NODE_DIR/\$MODEL_STORE_DATA_SUBDIR/"', up)
    assert (REPO / "pipelines/penguin/data/penguins_processed.csv").is_file()
    assert params["label_key"]["defaultValue"] == "species"


def test_run_pipeline_submits_under_the_compiled_name(compiled):
    spec, _ = compiled
    run = (SCRIPTS / "run-pipeline.sh").read_text()
    assert f"--pipeline-name {spec['pipelineInfo']['name']}" in run
    assert "tfx_kfp compile --pipeline penguin --target kind -o .kind/pipeline.yaml" in run
    assert '--host "$KFP_API_URL" --pipeline-file .kind/pipeline.yaml' in run


def test_dockerfile_defaults(compiled):
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in dockerfile
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\} AS builder$", dockerfile, re.M)
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\} AS runtime$", dockerfile, re.M)
    assert "uv sync --frozen" in dockerfile
    assert re.search(r"^USER \$\{UID\}:\$\{UID\}$", dockerfile, re.M) and "ARG UID=1000" in dockerfile
    assert "ARG VARIANT=cpu" in dockerfile
