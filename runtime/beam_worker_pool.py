"""A Beam SDK worker pool in the runtime image, for ``--environment_type=EXTERNAL``.

Run next to the engine's task slots (a sidecar of each Flink TaskManager, a container in
the test bed): ``python -m tfx_kfp.runtime.beam_worker_pool --port 50000``.

Beam's own pool (``worker_pool_main``) either starts bare subprocess harnesses, which skip
the start-up that Beam's container entry point (``/opt/apache/beam/boot``, not in this
image) performs, or in-process ones that skip it too. That start-up is what lets TFX's
stages run: the job's staged extra packages installed (TFX stages the user module as a
wheel with ``--extra_package``), and the filesystems configured. Here the harnesses run in
this process, where tensorflow-io has registered ``s3://`` and Beam's filesystems have the
S3 settings of this process's environment (``AWS_*``) — or, with ``TFX_KFP_OBJECT_STORE_MOUNT``
set, the buckets are plain folders under that mount and nothing is registered — and each
StartWorker first installs the job's extra packages as boot does.
"""

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
from concurrent import futures

import grpc
from apache_beam.portability import common_urns
from apache_beam.portability.api import (beam_artifact_api_pb2, beam_artifact_api_pb2_grpc, beam_fn_api_pb2,
                                         beam_fn_api_pb2_grpc,
                                         beam_provision_api_pb2, beam_provision_api_pb2_grpc,
                                         beam_runner_api_pb2)
from apache_beam.runners.portability.stager import EXTRA_PACKAGES_FILE
from apache_beam.runners.worker.worker_pool_main import BeamFnExternalWorkerPoolServicer

from tfx_kfp.runtime import object_store

PACKAGES_DIR = os.path.join(tempfile.gettempdir(), "tfx-kfp-worker-packages")


def _staged_files(provision_url: str, worker_id: str) -> dict:
    """The job's staged files, ``{staged name: bytes}``, from its provision and artifact services."""
    channel = grpc.insecure_channel(provision_url)
    metadata = (("worker_id", worker_id),)  # the services answer per worker, as for Beam's boot
    info = beam_provision_api_pb2_grpc.ProvisionServiceStub(channel).GetProvisionInfo(
        beam_provision_api_pb2.GetProvisionInfoRequest(), metadata=metadata).info
    retrieval = beam_artifact_api_pb2_grpc.ArtifactRetrievalServiceStub(channel)
    files = {}
    for dependency in info.dependencies:
        if dependency.role_urn != common_urns.artifact_roles.STAGING_TO.urn:
            continue
        name = beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(dependency.role_payload).staged_name
        chunks = retrieval.GetArtifact(beam_artifact_api_pb2.GetArtifactRequest(artifact=dependency), metadata=metadata)
        files[name] = b"".join(chunk.data for chunk in chunks)
    return files


def install_extra_packages(provision_url: str, worker_id: str) -> list:
    """pip-installs the packages listed in the job's staged ``extra_packages.txt`` into a folder on
    ``sys.path`` (once per package name); returns the names installed now."""
    files = _staged_files(provision_url, worker_id)
    listed = files.get(EXTRA_PACKAGES_FILE, b"").decode().split()
    print(f"worker pool: job {worker_id} staged {sorted(files)}; extra packages {listed}", flush=True)
    installed = []
    for name in listed:
        if os.path.exists(os.path.join(PACKAGES_DIR, ".installed", name)):
            continue
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, name)
            with open(path, "wb") as f:
                f.write(files[name])
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                            PACKAGES_DIR, path], check=True)
        os.makedirs(os.path.join(PACKAGES_DIR, ".installed"), exist_ok=True)
        open(os.path.join(PACKAGES_DIR, ".installed", name), "w").close()
        installed.append(name)
    if installed:
        if PACKAGES_DIR not in sys.path:
            sys.path.insert(0, PACKAGES_DIR)
        importlib.invalidate_caches()  # the import system caches what it found missing before
    return installed


class InstallingWorkerPool(BeamFnExternalWorkerPoolServicer):
    """Beam's pool with in-process harnesses, installing the job's extra packages before each starts."""

    def __init__(self):
        super().__init__(use_process=False)

    def StartWorker(self, start_worker_request, context):
        try:
            installed = install_extra_packages(start_worker_request.provision_endpoint.url,
                                               start_worker_request.worker_id)
        except (grpc.RpcError, subprocess.CalledProcessError, KeyError) as e:
            return beam_fn_api_pb2.StartWorkerResponse(error=f"installing the job's extra packages failed: {e}")
        if installed:
            print(f"worker pool: installed {', '.join(installed)}", flush=True)
        return super().StartWorker(start_worker_request, context)


def serve(port: int) -> None:
    # In-process harnesses skip sdk_worker_main, which would give Beam's filesystems the job's options:
    # the workers' S3 settings are this process's environment. Buckets mounted as folders need none.
    if object_store.mount_root() is None:
        object_store.open_object_store(object_store.s3_settings([]))
    else:
        print(f"worker pool: object storage mounted under {object_store.mount_root()}", flush=True)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    beam_fn_api_pb2_grpc.add_BeamFnExternalWorkerPoolServicer_to_server(InstallingWorkerPool(), server)
    # Beam's BeamFnExternalWorkerPoolServicer.start binds every interface; loopback is enough for a sidecar.
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print(f"tfx-kfp Beam worker pool on 127.0.0.1:{port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop(0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A Beam worker pool (EXTERNAL environment) for TFX stages.")
    parser.add_argument("--port", type=int, default=50000)
    serve(parser.parse_args().port)
