"""load-image.sh's archive fallback with the real Docker engine (issue 19 item 5).

``kind load image-archive`` imports the archive with containerd's ``ctr images import``; it fails with
"content digest … not found" when the archive references a blob it does not hold, as Docker's
containerd image store writes for multi-platform or attested images (kubernetes-sigs/kind#3795; the
single-platform save is the workaround kind#4247 documents). Here the script saves a real image through
this machine's Docker (``--platform linux/amd64`` when the engine has it, plain ``save`` otherwise), and
the archive is checked to hold every blob it references. Only ``kind`` is a stand-in.
"""

import json
import shutil
import subprocess
import tarfile

import pytest

from tests.kind.script_harness import Sandbox

pytestmark = pytest.mark.docker
TAG = "tfx-kfp-load-test:1"
KIND = """#!/usr/bin/env bash
[[ "$1 $2" == "get clusters" ]] && echo tfx-kfp
[[ "$1 $2" == "load docker-image" ]] && exit 1
[[ "$1 $2" == "load image-archive" ]] && cp "$3" "$ARCHIVE_COPY"
exit 0
"""


def _docker_works() -> bool:
    return shutil.which("docker") is not None and subprocess.run(
        ["docker", "info"], capture_output=True, timeout=60).returncode == 0


def missing_blobs(archive) -> list:
    """Digests (OCI layout) or files (Docker's manifest.json) the archive references but does not hold."""
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())

        def read(name):
            return json.load(tar.extractfile(name))

        missing = []
        if "index.json" in names:
            pending = [read("index.json")]
            while pending:
                document = pending.pop()
                for ref in [*document.get("manifests", []), document.get("config") or {}, *document.get("layers", [])]:
                    if not ref:
                        continue
                    blob = "blobs/" + ref["digest"].replace(":", "/")
                    if blob not in names:
                        missing.append(ref["digest"])
                    elif ref.get("mediaType", "").endswith(("manifest.v1+json", "image.index.v1+json",
                                                             "manifest.v2+json", "manifest.list.v2+json")):
                        pending.append(read(blob))
        else:
            for entry in read("manifest.json"):
                missing += [name for name in [entry["Config"], *entry["Layers"]] if name not in names]
        return missing


@pytest.mark.skipif(not _docker_works(), reason="needs a Docker engine")
def test_load_image_fallback_archive_holds_every_blob_it_references(tmp_path):
    context = tmp_path / "context"
    context.mkdir()
    (context / "x").write_text("x\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY x /x\n")
    subprocess.run(["docker", "build", "-q", "-t", TAG, str(context)], check=True, capture_output=True, timeout=300)
    try:
        sandbox = Sandbox(tmp_path / "repo")
        (sandbox.bin / "docker").unlink()  # the real Docker
        sandbox.shim("kind", KIND)
        cli = sandbox.shim("tfx-kfp", f'#!/usr/bin/env bash\necho {TAG}\n')
        archive = tmp_path / "loaded.tar"
        result = sandbox.run("load-image.sh", env={"TFX_KFP": str(cli), "ARCHIVE_COPY": str(archive)})
        assert result.returncode == 0, result.stderr
        assert "loading a linux/amd64 image archive instead" in result.stdout
        assert archive.stat().st_size > 0 and missing_blobs(archive) == []
    finally:
        subprocess.run(["docker", "rmi", "-f", TAG], capture_output=True, timeout=120)


def test_the_check_finds_a_blob_an_oci_index_references_but_the_archive_lacks(tmp_path):
    """The shape of the kind#3795 failure: an index naming a manifest (e.g. an attestation) not saved."""
    import io

    index = {"manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "digest": "sha256:" + "a" * 64}]}
    archive = tmp_path / "broken.tar"
    with tarfile.open(archive, "w") as tar:
        data = json.dumps(index).encode()
        info = tarfile.TarInfo("index.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert missing_blobs(archive) == ["sha256:" + "a" * 64]
