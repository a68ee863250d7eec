"""scripts/kind run for real in a sandbox (tests/kind/script_harness.py): downloads, model store, push outcome."""

import hashlib
import os
import stat

import pytest

from tests._support.cluster_files import versions
from tests.kind.script_harness import FileServer, Sandbox
from tfx_kfp.pipelines import cluster

KIND_BINARY = b"#!/bin/sh\necho 'kind v0.32.0 go1.26 linux/amd64'\n"
KUBECTL_BINARY = b"#!/bin/sh\necho 'Client Version: v1.36.1'\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def release_files(kind_checksum_suffix=".sha256sum", published_kind=KIND_BINARY):
    """What kind's and Kubernetes' release hosts publish: binaries and checksum files."""
    kind = "/kind/v0.32.0/kind-linux-amd64"
    kubectl = "/k8s/v1.36.1/bin/linux/amd64/kubectl"
    return {kind: KIND_BINARY, kind + kind_checksum_suffix: f"{sha(published_kind)}  kind-linux-amd64\n".encode(),
            kubectl: KUBECTL_BINARY, kubectl + ".sha256": sha(KUBECTL_BINARY).encode()}


@pytest.fixture
def release_host():
    servers = []

    def start(files):
        servers.append(FileServer(files))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def tools_sandbox(tmp_path, server, **overrides):
    return Sandbox(tmp_path, {"KIND_RELEASES": f"{server.url}/kind", "KUBERNETES_RELEASES": f"{server.url}/k8s",
                              "KIND_SHA256": sha(KIND_BINARY), "KUBECTL_SHA256": sha(KUBECTL_BINARY), **overrides})


def test_install_tools_verifies_kinds_published_sha256sum_and_the_pin(tmp_path, release_host):
    """Issue 8 item 1: kind publishes `<asset>.sha256sum` (hack/release/build/cross.sh), not `.sha256`."""
    server = release_host(release_files())
    sandbox = tools_sandbox(tmp_path, server)
    result = sandbox.run("install-tools.sh")
    assert result.returncode == 0, result.stderr
    assert "/kind/v0.32.0/kind-linux-amd64.sha256sum" in server.requested
    assert (tmp_path / ".kind/bin/kind").read_bytes() == KIND_BINARY
    assert (tmp_path / ".kind/bin/kubectl").read_bytes() == KUBECTL_BINARY
    assert "ok: kind v0.32.0, kubectl v1.36.1" in result.stdout


def test_install_tools_refuses_a_binary_the_pin_does_not_vouch_for(tmp_path, release_host):
    """The download host also serving a matching checksum is not enough: the pin must match too."""
    server = release_host(release_files())
    sandbox = tools_sandbox(tmp_path, server, KIND_SHA256="0" * 64)
    result = sandbox.run("install-tools.sh")
    assert result.returncode != 0
    assert f"pinned (versions.env) {'0' * 64}, published" in result.stderr and sha(KIND_BINARY) in result.stderr
    assert not (tmp_path / ".kind/bin/kind").exists() and not (tmp_path / ".kind/bin/kind.tmp").exists()


def test_install_tools_refuses_when_the_published_checksum_disagrees(tmp_path, release_host):
    server = release_host(release_files(published_kind=b"something else"))
    result = tools_sandbox(tmp_path, server).run("install-tools.sh")
    assert result.returncode != 0 and "checksum of" in result.stderr
    assert not (tmp_path / ".kind/bin/kind").exists()


def test_up_leaves_the_model_store_writable_by_the_pipeline_uid_only(tmp_path):
    """Issue 14 item 11: no one but the pipeline's uid may plant a model TF Serving would load."""
    sandbox = Sandbox(tmp_path)
    (sandbox.node_store / "models/penguin/7").mkdir(parents=True)  # a version an earlier run pushed
    (sandbox.node_store / "models/penguin/7/saved_model.pb").write_bytes(b"pb")
    os.chmod(sandbox.node_store, 0o777)  # as the old up.sh left it
    result = sandbox.run("up.sh")
    assert result.returncode == 0, result.stderr
    assert (sandbox.node_store / "data/penguin/penguins_processed.csv").is_file()
    paths = [sandbox.node_store, *sandbox.node_store.rglob("*")]
    assert len(paths) >= 7
    for path in paths:
        info = path.stat()
        assert info.st_uid == os.getuid(), path
        assert not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH), f"{path} is writable by others: {oct(info.st_mode)}"
        assert info.st_mode & stat.S_IROTH, f"{path}: TF Serving (another uid) must be able to read it"
        if path.is_dir():
            assert info.st_mode & stat.S_IXOTH, path


def test_up_creates_the_folders_the_pipeline_and_tf_serving_use(tmp_path):
    sandbox = Sandbox(tmp_path)
    assert sandbox.run("up.sh").returncode == 0
    v = versions()
    assert f"/model-store/{v['MODEL_STORE_MODELS_SUBDIR']}" == cluster.CLUSTER_SERVING_BASE_DIR
    assert f"/model-store/{v['MODEL_STORE_DATA_SUBDIR']}" == cluster.CLUSTER_DATA_ROOT
    assert (sandbox.node_store / v["MODEL_STORE_MODELS_SUBDIR"]).is_dir()
    assert (sandbox.node_store / v["MODEL_STORE_DATA_SUBDIR"] / "penguins_processed.csv").is_file()


CLI = """#!/usr/bin/env bash
case "$1" in
  compile) touch "${@: -1}" ;;
  submit) printf '%s\\n' "${SUBMIT_OUTPUT[@]}" "submit: run 'penguin x' SUCCEEDED in 9m" ;;
esac
"""


def pipeline_sandbox(tmp_path, tasks):
    sandbox = Sandbox(tmp_path)
    sandbox.shim("curl", "#!/usr/bin/env bash\nexit 0\n")
    lines = "\n".join(f"  [ 1m00s] task {t}" for t in tasks)
    cli = sandbox.shim("tfx-kfp", CLI.replace('"${SUBMIT_OUTPUT[@]}"', f"'{lines}'"))
    return sandbox, {"TFX_KFP": str(cli)}


def test_run_pipeline_and_query_say_the_pusher_was_skipped_when_the_model_is_not_blessed(tmp_path):
    """Issue 8 item 7: an unblessed model skips the Pusher (dsl.If); the scripts say so, not something obscure."""
    sandbox, env = pipeline_sandbox(tmp_path, ["evaluator: SUCCEEDED"])
    result = sandbox.run("run-pipeline.sh", env=env)
    assert result.returncode == 0, result.stderr
    assert "the Pusher was SKIPPED: the Evaluator did not bless the model" in result.stdout
    assert "TF Serving keeps serving no model" in result.stdout
    query = sandbox.run("query.sh", env=env)
    assert query.returncode != 0
    assert "no model to query: the last pipeline run skipped the Pusher because the Evaluator did not bless" \
        in query.stderr


def test_run_pipeline_reports_the_pushed_version(tmp_path):
    sandbox, env = pipeline_sandbox(tmp_path, ["pusher: SUCCEEDED"])
    version = tmp_path / ".kind/model-store/models/penguin/1795397432"
    cli = sandbox.bin / "tfx-kfp"
    cli.write_text(cli.read_text().replace("submit) ", f"submit) mkdir -p {version}; "))
    result = sandbox.run("run-pipeline.sh", env=env)
    assert result.returncode == 0, result.stderr
    assert "ok: the Pusher pushed version 1795397432" in result.stdout
    assert (tmp_path / ".kind/last-push").read_text().strip() == "pushed 1795397432"


def test_run_pipeline_tells_an_already_pushed_model_from_a_skipped_push(tmp_path):
    sandbox, env = pipeline_sandbox(tmp_path, ["pusher: SUCCEEDED"])
    (tmp_path / ".kind/model-store/models/penguin/5").mkdir(parents=True)
    result = sandbox.run("run-pipeline.sh", env=env)
    assert result.returncode == 0, result.stderr
    assert "found this exact model already pushed (version 5)" in result.stdout
