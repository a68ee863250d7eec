"""deploy/ and kind-cluster.yaml, checked without a cluster.

* deploy/ is rendered by real kustomize (``kubectl kustomize``, what
  ``kubectl apply -k`` runs), and so is the overlay scripts/kind/deploy.sh
  applies; every rendered manifest validates against the Kubernetes JSON
  schema of the pinned Kubernetes minor (kubernetes-validate, strict: unknown
  fields fail).
* The manifests agree with pipelines/cluster.py (claim name, mount path, model
  base path, model name) and with scripts/kind/versions.env (images, namespace).
* TF Serving: probes that fit a server that opens no port before its first
  model, and a hardened pod (test_serving_pod.py).
* kind-cluster.yaml: known keys only, the pinned node image by digest, and each
  published port reaches exactly one NodePort Service whose target is the
  container port the server listens on.
"""

import re
from typing import List

import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml

from tests._support.cluster_files import (DEPLOY, KIND_CONFIG, _serving, kubernetes_minor_schema, one, render,
                                          versions)
from tfx_kfp.pipelines import cluster

CLUSTER_SCOPED = {"PersistentVolume"}


@pytest.fixture(scope="module")
def rendered() -> List[dict]:
    return render()


@pytest.fixture(scope="module")
def kind_config() -> dict:
    return yaml.safe_load(KIND_CONFIG.read_text())


# ---------------------------------------------------------------------------
# Real kustomize and the Kubernetes schema
# ---------------------------------------------------------------------------

def test_every_yaml_under_deploy_is_rendered(rendered):
    files = {p for p in DEPLOY.rglob("*.yaml") if p.name != "kustomization.yaml"}
    in_files = {(d["kind"], d["metadata"]["name"]) for p in files for d in yaml.safe_load_all(p.read_text()) if d}
    assert in_files == {(d["kind"], d["metadata"]["name"]) for d in rendered}
    assert len(rendered) == 6


def test_manifests_validate_against_pinned_kubernetes_schema(rendered):
    schema = kubernetes_minor_schema()
    assert schema in kubernetes_validate.utils.all_versions(), \
        f"kubernetes-validate has no schema {schema}; it has {kubernetes_validate.utils.all_versions()[-5:]}"
    for doc in rendered:
        kubernetes_validate.validate(doc, schema, strict=True)


def test_schema_validation_catches_mistakes(rendered):
    broken = yaml.safe_load(yaml.safe_dump(one(rendered, "Service", "tfx-kfp-serving")))
    broken["spec"]["ports"][0]["nodePort"] = "30500"  # a string, not an integer
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_minor_schema(), strict=True)
    typo = yaml.safe_load(yaml.safe_dump(one(rendered, "Deployment", "tfx-kfp-serving")))
    typo["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, kubernetes_minor_schema(), strict=True)


def test_kustomize_errors_surface(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    with pytest.raises(AssertionError, match="kubectl kustomize .* failed"):
        render(tmp_path)


# ---------------------------------------------------------------------------
# Model store and TF Serving agree with the pipeline's cluster constants
# ---------------------------------------------------------------------------

def test_everything_namespaced_lives_where_kfp_runs_pipeline_pods(rendered):
    for doc in rendered:
        if doc["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in doc["metadata"]
        else:
            assert doc["metadata"]["namespace"] == versions()["KFP_NAMESPACE"] == "kubeflow"
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "tfx-kfp"


def test_model_store_claim_binds_the_hostpath_volume_kind_shares(rendered, kind_config):
    pv = one(rendered, "PersistentVolume", cluster.MODEL_STORE_PVC_NAME)
    pvc = one(rendered, "PersistentVolumeClaim", cluster.MODEL_STORE_PVC_NAME)
    assert pvc["spec"]["volumeName"] == pv["metadata"]["name"]
    assert pvc["spec"]["storageClassName"] == pv["spec"]["storageClassName"]
    assert set(pvc["spec"]["accessModes"]) <= set(pv["spec"]["accessModes"])
    assert pvc["spec"]["resources"]["requests"]["storage"] == pv["spec"]["capacity"]["storage"]
    mounts = kind_config["nodes"][0]["extraMounts"]
    assert [m["containerPath"] for m in mounts] == [pv["spec"]["hostPath"]["path"]] \
        == [versions()["MODEL_STORE_NODE_DIR"]]
    assert mounts[0]["hostPath"] == versions()["MODEL_STORE_HOST_DIR"]


def test_tf_serving_reads_the_pushers_base_path_from_the_model_store(rendered):
    deployment, spec, container, flags = _serving(rendered)
    volumes = {v["name"]: v for v in spec["volumes"]}
    store = [m for m in container["volumeMounts"] if m["mountPath"] == cluster.MODEL_STORE_MOUNT_PATH]
    assert len(store) == 1 and store[0]["readOnly"] is True
    assert volumes[store[0]["name"]]["persistentVolumeClaim"]["claimName"] == cluster.MODEL_STORE_PVC_NAME
    assert flags["model_name"] == cluster.SERVING_MODEL_NAME == versions()["MODEL_NAME"]
    assert flags["model_base_path"] == cluster.CLUSTER_SERVING_BASE_DIR
    # up.sh creates the base path (owned by the pipeline's uid); no root init container does.
    assert "initContainers" not in spec
    # (test_script_behaviour.py runs up.sh and checks the folder it creates.)
    assert f"{cluster.MODEL_STORE_MOUNT_PATH}/{versions()['MODEL_STORE_MODELS_SUBDIR']}" \
        == cluster.CLUSTER_SERVING_BASE_DIR


def test_tf_serving_image_matches_versions_env(rendered):
    _, spec, container, _ = _serving(rendered)
    assert container["image"] == versions()["TF_SERVING_IMAGE"]
    assert re.fullmatch(r"tensorflow/serving:\d+\.\d+\.\d+", container["image"]), "pin an exact release tag"
    assert container["command"] == ["/usr/bin/tensorflow_model_server"]


def test_readiness_probe_asks_tf_serving_for_the_model(rendered):
    _, _, container, flags = _serving(rendered)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    probe = container["readinessProbe"]["httpGet"]
    assert probe["path"] == f"/v1/models/{cluster.SERVING_MODEL_NAME}"
    assert ports[probe["port"]] == int(flags["rest_api_port"])
    assert ports["grpc"] == int(flags["port"])
    # TF Serving must see new versions while running: polling on.
    assert int(flags["file_system_poll_wait_seconds"]) > 0


# ---------------------------------------------------------------------------
# kind-cluster.yaml
# ---------------------------------------------------------------------------

KIND_TOP_KEYS = {"kind", "apiVersion", "name", "nodes", "networking", "featureGates", "runtimeConfig",
                 "kubeadmConfigPatches", "kubeadmConfigPatchesJSON6902", "containerdConfigPatches",
                 "containerdConfigPatchesJSON6902"}
KIND_NODE_KEYS = {"role", "image", "labels", "extraMounts", "extraPortMappings", "kubeadmConfigPatches",
                  "kubeadmConfigPatchesJSON6902"}
KIND_PORT_KEYS = {"containerPort", "hostPort", "listenAddress", "protocol"}
KIND_MOUNT_KEYS = {"hostPath", "containerPath", "readOnly", "selinuxRelabel", "propagation"}


def test_kind_config_keys_and_pins(kind_config):
    assert kind_config["apiVersion"] == "kind.x-k8s.io/v1alpha4" and kind_config["kind"] == "Cluster"
    assert set(kind_config) <= KIND_TOP_KEYS
    assert kind_config["name"] == versions()["CLUSTER_NAME"]
    (node,) = kind_config["nodes"]
    assert set(node) <= KIND_NODE_KEYS and node["role"] == "control-plane"
    assert node["image"] == versions()["KIND_NODE_IMAGE"]
    assert re.fullmatch(r"kindest/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", node["image"])
    assert versions()["KIND_VERSION"] == "v0.32.0"  # docs/kind.md: the node image is this release's default
    assert node["image"].split(":")[1].split("@")[0] == versions()["KUBERNETES_VERSION"]
    for mapping in node["extraPortMappings"]:
        assert set(mapping) <= KIND_PORT_KEYS
        assert mapping["listenAddress"] == "127.0.0.1" and mapping["protocol"] == "TCP"
    for mount in node["extraMounts"]:
        assert set(mount) <= KIND_MOUNT_KEYS


def test_every_published_port_is_commented(kind_config):
    lines = KIND_CONFIG.read_text().splitlines()
    for mapping in kind_config["nodes"][0]["extraPortMappings"]:
        index = next(i for i, line in enumerate(lines) if f"containerPort: {mapping['containerPort']}" in line)
        assert lines[index - 1].strip().startswith("#"), f"port {mapping['containerPort']} has no comment"


def test_published_ports_reach_the_right_servers(rendered, kind_config):
    """host port -> node port -> one NodePort Service -> the container port the server listens on."""
    mappings = {m["containerPort"]: m["hostPort"] for m in kind_config["nodes"][0]["extraPortMappings"]}
    node_ports = {}
    for service in (d for d in rendered if d["kind"] == "Service"):
        assert service["spec"]["type"] == "NodePort"
        for port in service["spec"]["ports"]:
            assert 30000 <= port["nodePort"] <= 32767
            assert port["nodePort"] not in node_ports, f"nodePort {port['nodePort']} used twice"
            node_ports[port["nodePort"]] = (service, port)
    assert set(mappings) == set(node_ports), "kind publishes exactly the NodePorts deploy/ declares"
    assert len(set(mappings.values())) == len(mappings), "host ports must be distinct"

    v = versions()
    def host_port(url: str) -> int:
        return int(url.rsplit(":", 1)[1])

    _, _, container, flags = _serving(rendered)
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    expected = {
        host_port(v["SERVING_GRPC_TARGET"]): ("tfx-kfp-serving", named, int(flags["port"])),
        host_port(v["SERVING_REST_URL"]): ("tfx-kfp-serving", named, int(flags["rest_api_port"])),
        host_port(v["KFP_UI_URL"]): ("tfx-kfp-pipelines-ui", None, 3000),   # ml-pipeline-ui container port
        host_port(v["KFP_API_URL"]): ("tfx-kfp-pipelines-api", None, 8888),  # ml-pipeline HTTP port
    }
    for node_port, host in mappings.items():
        service, port = node_ports[node_port]
        name, ports_by_name, target = expected[host]
        assert service["metadata"]["name"] == name, f"host port {host} reaches {service['metadata']['name']}"
        resolved = ports_by_name[port["targetPort"]] if isinstance(port["targetPort"], str) else port["targetPort"]
        assert resolved == target, f"host port {host}: expected target {target}, got {resolved}"


def test_kfp_access_services_select_kfp_pods(rendered):
    assert one(rendered, "Service", "tfx-kfp-pipelines-ui")["spec"]["selector"] == {"app": "ml-pipeline-ui"}
    assert one(rendered, "Service", "tfx-kfp-pipelines-api")["spec"]["selector"] == {"app": "ml-pipeline"}
    assert one(rendered, "Service", "tfx-kfp-serving")["spec"]["selector"] == \
        one(rendered, "Deployment", "tfx-kfp-serving")["spec"]["selector"]["matchLabels"]
