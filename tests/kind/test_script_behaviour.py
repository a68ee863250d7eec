"""scripts/kind run for real in a sandbox (tests/kind/script_harness.py): downloads, model store, push outcome."""

import hashlib
import json
import os
import stat
import sys
import time

import pytest

from tests._support.cluster_files import versions
from tests.kind.script_harness import FileServer, Sandbox
from tests._support.cluster_files import REPO
from tfx_kfp.components.pusher import executor as push
from tfx_kfp.pipelines import cluster, penguin
from tfx_kfp.runtime import user_module

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


# The stand-in CLI: `compile` writes the file, `submit` does what the real run leaves behind in the
# model store: $PUSHER_DOES runs in the submit (e.g. components/pusher/executor.py writing its record).
CLI = """#!/usr/bin/env bash
case "$1" in
  compile) touch "${@: -1}" ;;
  submit) eval "${PUSHER_DOES:-true}"; echo "submit: run 'penguin x' SUCCEEDED in 9m" ;;
esac
"""
PUSHER = (f'"{sys.executable}" -c "import sys; from tfx_kfp.components.pusher import executor; '
          'executor.write_last_push(sys.argv[1], sys.argv[2], int(sys.argv[3]), \'run\', \'r\')" ')


def pipeline_sandbox(tmp_path, pusher_does="true"):
    sandbox = Sandbox(tmp_path)
    sandbox.shim("curl", "#!/usr/bin/env bash\nexit 0\n")
    cli = sandbox.shim("tfx-kfp", CLI)
    return sandbox, {"TFX_KFP": str(cli), "PUSHER_DOES": pusher_does}


def base(tmp_path):
    return tmp_path / ".kind/model-store/models/penguin"


def test_run_pipeline_and_query_say_nothing_was_pushed_when_no_pusher_ran(tmp_path):
    """Issue 8 item 7, issue 19 item 1: both dsl.If gates can skip the Pusher; the record says it did not run."""
    sandbox, env = pipeline_sandbox(tmp_path)
    result = sandbox.run("run-pipeline.sh", env=env)
    assert result.returncode == 0, result.stderr
    assert "nothing was pushed: the Pusher did not push. The Evaluator did not bless" in result.stdout
    assert "or the InfraValidator found it does not load" in result.stdout
    assert "TF Serving keeps serving no model" in result.stdout
    assert (tmp_path / ".kind/last-push").read_text().strip() == "skipped"
    query = sandbox.run("query.sh", env=env)
    assert query.returncode != 0
    assert "no model to query: the last pipeline run pushed nothing" in query.stderr


def test_a_record_from_an_earlier_run_is_not_this_runs_push(tmp_path):
    sandbox, env = pipeline_sandbox(tmp_path)
    base(tmp_path).mkdir(parents=True)
    (base(tmp_path) / push.LAST_PUSH_RECORD).write_text(json.dumps(
        {"outcome": "pushed", "version": 5, "run": "old", "reason": "r", "at": time.time() - 3600}))
    result = sandbox.run("run-pipeline.sh", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".kind/last-push").read_text().strip() == "skipped"


def test_run_pipeline_reports_the_version_the_pusher_recorded(tmp_path):
    sandbox, env = pipeline_sandbox(tmp_path, PUSHER + f"{base(tmp_path)} pushed 1795397432")
    result = sandbox.run("run-pipeline.sh", env=env)
    assert result.returncode == 0, result.stderr
    assert "ok: the Pusher pushed version 1795397432" in result.stdout
    assert (tmp_path / ".kind/last-push").read_text().strip() == "pushed 1795397432"


def test_run_pipeline_tells_an_already_pushed_model_from_a_skipped_push(tmp_path):
    sandbox, env = pipeline_sandbox(tmp_path, PUSHER + f"{base(tmp_path)} already-pushed 5")
    result = sandbox.run("run-pipeline.sh", env=env)
    assert result.returncode == 0, result.stderr
    assert "found this exact model already pushed (version 5)" in result.stdout
    assert (tmp_path / ".kind/last-push").read_text().strip() == "already-pushed 5"


def test_an_unreadable_push_record_stops_the_script_with_its_reason(tmp_path):
    sandbox, env = pipeline_sandbox(tmp_path, f"mkdir -p {base(tmp_path)}; echo '[1]' >{base(tmp_path)}/"
                                              f"{push.LAST_PUSH_RECORD}")
    result = sandbox.run("run-pipeline.sh", env=env)
    assert result.returncode != 0
    assert "unreadable push record: expected a JSON object with 'outcome'" in result.stderr


def test_run_pipeline_installs_the_module_the_compiled_pipeline_refers_to(tmp_path):
    """Issue 19 item 8: the kind YAML carries a reference; the file must be in the store under that name."""
    sandbox, env = pipeline_sandbox(tmp_path)
    assert sandbox.run("run-pipeline.sh", env=env).returncode == 0
    defaults = cluster.cluster_parameter_values({"module_source": penguin.module_source()})
    path, _ = defaults["module_source"].split(user_module.MODULE_FILE_PREFIX)[1].split("#")
    stored = sandbox.node_store / os.path.relpath(path, cluster.MODEL_STORE_MOUNT_PATH)
    assert user_module.resolve(defaults["module_source"].replace(path, str(stored))) == penguin.module_source()
    assert not stored.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    assert f"PUSH_RECORD_NAME={push.LAST_PUSH_RECORD}\n" in (REPO / "scripts/kind/common.sh").read_text()


def test_run_pipeline_installs_a_module_file_given_to_submit(tmp_path):
    """submit sends --module-file as a reference to modules/<sha256>.py; run-pipeline.sh puts the file there."""
    sandbox, env = pipeline_sandbox(tmp_path)
    module = tmp_path / "my_module.py"
    module.write_text("def preprocessing_fn(inputs):\n    return inputs\n")
    result = sandbox.run("run-pipeline.sh", "--module-file", str(module), env=env)
    assert result.returncode == 0, result.stderr
    stored = sandbox.node_store / "modules" / f"{user_module.sha256_of(module.read_text())}.py"
    assert stored.read_text() == module.read_text()
    assert f"module {module} is modules/{stored.name} in the model store" in result.stdout


def image_sandbox(tmp_path):
    sandbox = Sandbox(tmp_path)
    cli = sandbox.shim("tfx-kfp", '#!/usr/bin/env bash\n[[ "$1 $2" == "image tag" ]] && echo tfx-kfp:1-abc\nexit 0\n')
    return sandbox, {"TFX_KFP": str(cli), "TOOL_LOG": str(tmp_path / "tools.log")}


def test_load_image_falls_back_to_a_linux_amd64_archive(tmp_path):
    """Issue 19 item 5: containerd image store → "content digest not found" (kind#3795, #4247)."""
    sandbox, env = image_sandbox(tmp_path)
    result = sandbox.run("load-image.sh", env={**env, "KIND_LOAD_DOCKER_IMAGE_RC": "1"})
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "tools.log").read_text().splitlines()
    assert log == ["kind load docker-image tfx-kfp:1-abc --name tfx-kfp",
                   "docker save --platform linux/amd64 -o .kind/runtime-image.tar tfx-kfp:1-abc",
                   "kind load image-archive .kind/runtime-image.tar --name tfx-kfp"]
    assert not (tmp_path / ".kind/runtime-image.tar").exists()


def test_load_image_on_a_docker_without_save_platform(tmp_path):
    sandbox, env = image_sandbox(tmp_path)
    result = sandbox.run("load-image.sh", env={**env, "KIND_LOAD_DOCKER_IMAGE_RC": "1",
                                               "DOCKER_SAVE_REFUSES": "--platform"})
    assert result.returncode == 0, result.stderr
    assert "docker save -o .kind/runtime-image.tar tfx-kfp:1-abc" in (tmp_path / "tools.log").read_text()


def test_up_refuses_a_cgroup_v1_host_before_creating_the_cluster(tmp_path):
    """Kubernetes >= 1.35: the kubelet's failCgroupV1 defaults to true; the node would never be Ready."""
    sandbox = Sandbox(tmp_path)
    sandbox.shim("kind", "#!/usr/bin/env bash\n[[ $1 == create ]] && touch created\nexit 0\n")
    result = sandbox.run("up.sh", env={"DOCKER_CGROUP_VERSION": "1"})
    assert result.returncode != 0 and not (tmp_path / "created").exists()
    assert "expected a Docker host with cgroup v2; docker info reports cgroup version '1'" in result.stderr
    assert sandbox.run("up.sh").returncode == 0 and (tmp_path / "created").exists()


KUBECTL_POD_LATE = """#!/usr/bin/env bash
if [[ "$*" == *"get pod -l app=tfx-kfp-serving -o name"* ]]; then
  n=$(( $(cat {count} 2>/dev/null || echo 0) + 1 )); echo $n >{count}
  (( n >= 2 )) && echo pod/tfx-kfp-serving-1
fi
if [[ "$*" == *" wait "*"pod -l app=tfx-kfp-serving"* ]]; then
  [[ -s {count} ]] || { echo 'error: no matching resources found' >&2; exit 1; }
fi
exit 0
"""


def test_deploy_waits_for_the_serving_pod_to_exist_before_waiting_on_it(tmp_path):
    sandbox = Sandbox(tmp_path, {"TF_SERVING_DIGEST": "sha256:" + "a" * 64})
    sandbox.shim("kubectl", KUBECTL_POD_LATE.replace("{count}", str(tmp_path / "gets")))
    result = sandbox.run("deploy.sh")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "gets").read_text().strip() == "2"


@pytest.mark.parametrize("listed", ["", "tensorflow/serving:2.16.1", "other/image@sha256:" + "b" * 64])
def test_deploy_says_why_when_the_digest_has_an_unexpected_format(tmp_path, listed):
    sandbox = Sandbox(tmp_path)
    result = sandbox.run("deploy.sh", env={"DOCKER_REPO_DIGESTS": listed})
    assert result.returncode != 0
    assert "expected a repository digest tensorflow/serving@sha256:<64 hex>" in result.stderr
    assert f"docker image inspect lists: {listed or 'none'}" in result.stderr


def test_deploy_reads_the_digest_docker_lists(tmp_path):
    sandbox = Sandbox(tmp_path)
    sandbox.shim("kubectl", "#!/usr/bin/env bash\n[[ $* == *' -o name'* ]] && echo pod/tfx-kfp-serving-1\nexit 0\n")
    digest = "sha256:" + "c" * 64
    result = sandbox.run("deploy.sh", env={"DOCKER_REPO_DIGESTS": f"docker.io/tensorflow/serving@{digest}"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".kind/tf-serving.digest").read_text().strip() == digest
    assert f"digest: {digest}" in (tmp_path / ".kind/deploy/kustomization.yaml").read_text()
