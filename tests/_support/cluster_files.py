"""What the kind tests read: deploy/ rendered by real kustomize, versions.env, kind-cluster.yaml.

``render`` runs ``kubectl kustomize`` (kustomize built into kubectl), the same
code ``kubectl apply -k`` runs, so what the tests check is what a cluster gets.
``deploy_overlay`` writes the overlay scripts/kind/deploy.sh applies (TF
Serving pinned by digest) with the script's own shell function.
"""

import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KIND_CONFIG = REPO / "kind-cluster.yaml"
VERSIONS_ENV = REPO / "scripts" / "kind" / "versions.env"
COMMON_SH = REPO / "scripts" / "kind" / "common.sh"


def versions() -> Dict[str, str]:
    values = {}
    for line in VERSIONS_ENV.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = shlex.split(value)[0] if value else ""
    return values


def kubernetes_minor_schema() -> str:
    """kubernetes-validate schema version for the pinned Kubernetes minor (v1.36.1 -> 1.36.0)."""
    major, minor, _ = versions()["KUBERNETES_VERSION"].lstrip("v").split(".")
    return f"{major}.{minor}.0"


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.fail("expected kubectl on PATH (its built-in kustomize renders deploy/); "
                    "scripts/kind/install-tools.sh installs the pinned one into .kind/bin")
    return path


def render(folder: Path = DEPLOY) -> List[dict]:
    """``kubectl kustomize folder``, parsed."""
    result = subprocess.run([kubectl(), "kustomize", str(folder)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl kustomize {folder} failed: {result.stderr}"
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def deploy_overlay(directory: Path, digest: str) -> subprocess.CompletedProcess:
    """Runs common.sh's ``write_deploy_overlay`` (what deploy.sh applies) into ``directory``."""
    return subprocess.run(
        ["bash", "-c", f'source "{COMMON_SH}" && write_deploy_overlay "$0" "$1"', str(directory), digest],
        capture_output=True, text=True, timeout=60)


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
