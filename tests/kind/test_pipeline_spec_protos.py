"""Every compiled pipeline variant parses STRICTLY with the pinned KFP backend's protos.

The backend (kubeflow/pipelines 2.17.0, scripts/kind/versions.env) reads an
uploaded pipeline with protojson into ``ml_pipelines.PipelineSpec`` and
``PlatformSpec``, and each task's Kubernetes config into
``kfp_kubernetes.KubernetesExecutorConfig``. An unknown field there is a
rejected upload or a failed driver, so here an unknown field fails the test
(``json_format.ParseDict(..., ignore_unknown_fields=False)``).

The descriptors come from the backend release's PyPI wheels
(tests/kind/protos/kfp-backend-2.17.0.txt: what they are, their hashes);
docs/kind.md records that they equal protoc's output for the .proto files at
the tag. They are read from the wheels' generated code and never imported:
that code needs protobuf 6, and this project pins protobuf<5.
"""

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, duration_pb2, json_format, message_factory
from google.protobuf import struct_pb2
from google.rpc import status_pb2

from tfx_kfp.pipelines import compile_pipeline, create_training_pipeline, penguin_pipeline
from tfx_kfp.pipelines.penguin import module_source
from tfx_kfp.pipelines.presets import build_pipeline

PROTOS = Path(__file__).parent / "protos" / "kfp-backend-2.17.0.txt"
GENERATED = {"kfp_pipeline_spec": "kfp/pipeline_spec/pipeline_spec_pb2.py",
             "kfp_kubernetes": "kfp/kubernetes/kubernetes_executor_config_pb2.py"}
VARIANTS = {
    "penguin-kind": lambda: penguin_pipeline("kind"),
    "penguin-local": lambda: penguin_pipeline("local"),
    "penguin-local-ungated": lambda: penguin_pipeline("local", gate_push=False),
    "penguin-kind-import-schema": lambda: penguin_pipeline("kind", import_schema=True),
    "penguin-kind-separate-modules": lambda: penguin_pipeline("kind", separate_modules=True),
    "training": lambda: create_training_pipeline(),
    "training-import-schema": lambda: create_training_pipeline(import_schema=True),
    # `tfx-kfp compile --pipeline training --target kind` with a user's own module and data (issue 18 item 4)
    "training-kind": lambda: build_pipeline("training", target="kind", params={
        "data_root": "/model-store/data/mine", "module_source": module_source(), "label_key": "species",
        "serving_base_dir": "/model-store/models/penguin"}),
}


def _serialized_descriptor(wheel: Path, member: str) -> descriptor_pb2.FileDescriptorProto:
    # protoc's Python output embeds the .proto as one bytes literal: AddSerializedFile(b'...').
    source = zipfile.ZipFile(wheel).read(member).decode()
    literal = re.search(r"AddSerializedFile\((b'.*?')\)\n", source, re.S)
    assert literal, f"{wheel.name}:{member}: no serialized descriptor"
    return descriptor_pb2.FileDescriptorProto.FromString(ast.literal_eval(literal.group(1)))


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    """Message classes for PipelineSpec, PlatformSpec and KubernetesExecutorConfig of the pinned backend."""
    wheels = tmp_path_factory.mktemp("kfp-backend-protos")
    pip = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                          "--require-hashes", "-r", str(PROTOS), "-d", str(wheels)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, f"could not download the backend's proto wheels ({PROTOS}) from PyPI: {pip.stderr}"
    pool = descriptor_pool.DescriptorPool()
    for module in (any_pb2, duration_pb2, struct_pb2, status_pb2):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        pool.Add(proto)
    for prefix, member in GENERATED.items():
        (wheel,) = wheels.glob(f"{prefix}-2.17.0-*.whl")
        pool.Add(_serialized_descriptor(wheel, member))

    def message(name):
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))

    return {"spec": message("ml_pipelines.PipelineSpec"), "platform": message("ml_pipelines.PlatformSpec"),
            "kubernetes": message("kfp_kubernetes.KubernetesExecutorConfig")}


def strict_parse(document: dict, message_class):
    return json_format.ParseDict(document, message_class(), ignore_unknown_fields=False)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("variants")
    documents = {}
    for name, build in VARIANTS.items():
        path = folder / f"{name}.yaml"
        compile_pipeline(build(), str(path))
        documents[name] = list(yaml.safe_load_all(path.read_text()))
    return documents


@pytest.mark.parametrize("variant", VARIANTS)
def test_compiled_variant_parses_strictly_with_the_backend_protos(backend, compiled, variant):
    documents = compiled[variant]
    spec = strict_parse(documents[0], backend["spec"])
    assert spec.pipeline_info.name and spec.root.dag.tasks
    assert set(spec.deployment_spec["executors"]) == set(documents[0]["deploymentSpec"]["executors"])
    if "-kind" in variant:
        (platform_doc,) = documents[1:]
        platform = strict_parse(platform_doc, backend["platform"])
        executors = platform_doc["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
        assert set(executors) == set(documents[0]["deploymentSpec"]["executors"])
        assert "kubernetes" in platform.platforms
        for name, config in executors.items():
            parsed = strict_parse(config, backend["kubernetes"])
            assert parsed.pvc_mount[0].mount_path == "/model-store", name
    else:
        assert len(documents) == 1, "only the kind target carries a Kubernetes platform spec"


def test_strict_parse_rejects_what_the_backend_does_not_know(backend, compiled):
    spec = yaml.safe_load(yaml.safe_dump(compiled["penguin-kind"][0]))
    spec["root"]["dag"]["tasks"]["trainer"]["retryPolicy2"] = {}
    with pytest.raises(json_format.ParseError, match="retryPolicy2"):
        strict_parse(spec, backend["spec"])
    executor = dict(next(iter(compiled["penguin-kind"][1]["platforms"]["kubernetes"]["deploymentSpec"]
                             ["executors"].values())))
    executor["pvcMounts"] = executor.pop("pvcMount")
    with pytest.raises(json_format.ParseError, match="pvcMounts"):
        strict_parse(executor, backend["kubernetes"])
