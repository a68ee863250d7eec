"""The TF Serving pod as a cluster gets it: probes, security context, limits, image digest.

Rendered by real kustomize: deploy/ itself, and the overlay scripts/kind/deploy.sh
writes and applies (common.sh ``write_deploy_overlay``: deploy/ with the image
pinned by digest).
"""

import re

import kubernetes_validate
import pytest

from tests._support.cluster_files import (REPO, _serving, deploy_overlay, kubernetes_minor_schema, render,
                                          versions)

DIGEST = "sha256:" + "3" * 64
# Before its first model, TF Serving opens no port (tensorflow/serving 2.16.1: Server::BuildAndStart
# runs ServerCore::Create, which awaits the first load, before building the gRPC and REST servers).
# The first push comes after the whole pipeline ran (~10 min on the build machine; longer on a
# laptop with a cold image pull), or never when the model is not blessed.
FIRST_PUSH_BUDGET_S = 6 * 3600


@pytest.fixture(scope="module")
def rendered():
    return render()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """What deploy.sh applies: the overlay with TF Serving pinned by digest, rendered."""
    overlay = tmp_path_factory.mktemp("overlay") / "deploy"
    result = deploy_overlay(overlay, DIGEST)
    assert result.returncode == 0, result.stderr
    return render(overlay)


def test_deploy_applies_the_digest_pinned_overlay_not_the_bare_tag():
    text = (REPO / "scripts/kind/deploy.sh").read_text()
    assert 'write_deploy_overlay .kind/deploy "$digest"' in text
    assert re.search(r'apply -k \.kind/deploy$', text, re.M) and "apply -k deploy/" not in text


def test_tf_serving_runs_by_digest(deployed):
    _, _, container, _ = _serving(deployed)
    repository = versions()["TF_SERVING_IMAGE"].split(":")[0]
    assert container["image"] == f"{repository}@{DIGEST}"
    for doc in deployed:
        kubernetes_validate.validate(doc, kubernetes_minor_schema(), strict=True)


def test_overlay_refuses_what_is_not_a_digest(tmp_path):
    result = deploy_overlay(tmp_path / "deploy", "2.16.1")
    assert result.returncode != 0 and "expected a digest sha256:<64 hex>" in result.stderr


def test_no_probe_can_restart_tf_serving_before_its_first_model(rendered):
    """Issue 8 item 3: a liveness probe on a port that is closed until the first push restarts TF Serving."""
    _, _, container, _ = _serving(rendered)
    startup = container.get("startupProbe")
    assert startup, "liveness and readiness must wait for a startup probe"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= FIRST_PUSH_BUDGET_S
    assert {"tcpSocket"} == {k for k in startup if k in ("tcpSocket", "httpGet", "exec", "grpc")}
    # Kubernetes runs liveness and readiness only after the startup probe succeeded.
    assert container["livenessProbe"]["tcpSocket"]["port"] == startup["tcpSocket"]["port"]


def test_tf_serving_pod_is_hardened(rendered):
    """Issue 14 item 11: non-root, read-only root filesystem, no capabilities, no escalation, limits."""
    _, spec, container, _ = _serving(rendered)
    pod, ctx = spec["securityContext"], container["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["runAsUser"] not in (0, int(versions()["PIPELINE_UID"])), \
        "TF Serving must not run as the uid that can write the model store"
    assert ctx["readOnlyRootFilesystem"] is True and ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"]["drop"] == ["ALL"] and "add" not in ctx["capabilities"]
    assert spec["automountServiceAccountToken"] is False
    resources = container["resources"]
    for kind in ("cpu", "memory"):
        assert resources["requests"][kind] and resources["limits"][kind], kind
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]], "a read-only root needs a writable /tmp"
    for path, mount in mounts.items():
        assert path == "/tmp" or mount.get("readOnly") is True, path


def test_tf_serving_pod_meets_the_restricted_pod_security_standard(rendered):
    """KFP 2.17 labels namespace kubeflow `enforce: baseline`, `warn: restricted`; this pod meets restricted."""
    _, spec, container, _ = _serving(rendered)
    assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")
    assert all(set(v) - {"name"} <= {"persistentVolumeClaim", "emptyDir", "configMap", "secret", "projected"}
               for v in spec["volumes"])
    assert not container["securityContext"].get("privileged")
    assert all(not p.get("hostPort") for p in container["ports"])
