"""What the kind tests read: deploy/ rendered (kustomize subset), versions.env, kind-cluster.yaml.

deploy/ is rendered by a small kustomize subset (resources, namespace, labels);
test_manifests fails if a kustomization uses any other field, so the renderer
stays faithful to what `kubectl apply -k deploy/` does.
"""

import shlex
from pathlib import Path
from typing import Dict, List

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KIND_CONFIG = REPO / "kind-cluster.yaml"
VERSIONS_ENV = REPO / "scripts" / "kind" / "versions.env"

# Kinds without a namespace (the kustomize namespace transformer skips them).
CLUSTER_SCOPED = {"PersistentVolume", "Namespace", "StorageClass", "ClusterRole", "ClusterRoleBinding",
                  "CustomResourceDefinition"}
KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "labels", "resources"}


def versions() -> Dict[str, str]:
    values = {}
    for line in VERSIONS_ENV.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = shlex.split(value)[0] if value else ""
    return values


def kubernetes_minor_schema() -> str:
    """kubernetes-validate schema version for the pinned Kubernetes minor (v1.32.2 -> 1.32.0)."""
    major, minor, _ = versions()["KUBERNETES_VERSION"].lstrip("v").split(".")
    return f"{major}.{minor}.0"


def _load_kustomization(folder: Path) -> dict:
    return yaml.safe_load((folder / "kustomization.yaml").read_text())


def render(folder: Path = DEPLOY) -> List[dict]:
    """``kustomize build folder`` for the subset of kustomize that deploy/ uses."""
    k = _load_kustomization(folder)
    docs: List[dict] = []
    for entry in k.get("resources", []):
        path = folder / entry
        if path.is_dir():
            docs += render(path)
        else:
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for doc in docs:
        if k.get("namespace") and doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"]["namespace"] = k["namespace"]
        for group in k.get("labels", []):
            assert not group.get("includeSelectors") and not group.get("includeTemplates"), \
                "the test renderer supports metadata labels only"
            doc["metadata"].setdefault("labels", {}).update(group["pairs"])
    return docs


def one(docs: List[dict], kind: str, name: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name} in deploy/, found {len(found)}"
    return found[0]


def _serving(rendered):
    """The TF Serving Deployment, its pod spec, its container and its --flags."""
    deployment = one(rendered, "Deployment", "tfx-kfp-serving")
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    flags = dict(arg.lstrip("-").split("=", 1) for arg in container["args"])
    return deployment, spec, container, flags
