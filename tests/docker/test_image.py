"""The runtime image: size, user, interpreter, packages, writable paths, no build tools."""

import json
import subprocess

import pytest

from tfx_kfp import __version__
from tfx_kfp.components.image import image_tag, source_digest

pytestmark = pytest.mark.docker

# The first image's target was 2.5 GB (2.37 GB then); tensorflow-io (186 MB: TensorFlow's s3:// filesystem,
# which remote Beam on object storage needs, docs/scale.md) and the serving stack brought it to 2.61 GB.
SIZE_LIMIT_BYTES = 2.75e9

PROBE = r"""
import json, os, shutil, subprocess, sys, tempfile
import tfx_kfp, tensorflow as tf, tfx.components, kfp
def writable(path):
    try:
        with tempfile.NamedTemporaryFile(dir=path):
            return True
    except OSError:
        return False
print(json.dumps({
    "uid": os.getuid(),
    "python3": shutil.which("python3"),
    "executable": sys.executable,
    "tfx_kfp": tfx_kfp.__version__,
    "kfp": kfp.__version__,
    "tensorflow": tf.__version__,
    "cuda": tf.test.is_built_with_cuda(),
    "pip": subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True).stdout,
    "home": os.environ["HOME"],
    "writable": {p: writable(p) for p in (os.environ["HOME"], os.getcwd(), "/tmp", "/minio", "/gcs", "/s3")},
    "tools": {t: shutil.which(t) for t in ("gcc", "cc", "g++", "make", "uv")},
}))
"""


def docker(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True)


def test_tag_is_the_package_version_and_source_digest(runtime_image):
    assert runtime_image == image_tag("cpu") and runtime_image.endswith(f":{__version__}-{source_digest()}")
    labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}", runtime_image).stdout)
    assert labels["org.opencontainers.image.version"] == __version__


def test_size_is_under_the_target(runtime_image):
    size = int(docker("image", "inspect", "--format", "{{.Size}}", runtime_image).stdout)
    print(f"\nruntime image {runtime_image}: {size / 1e9:.2f} GB")
    assert size < SIZE_LIMIT_BYTES, f"expected the CPU image under {SIZE_LIMIT_BYTES / 1e9} GB; it is {size / 1e9:.2f} GB"


def test_runtime_contract(runtime_image):
    """What KFP lightweight components (install_kfp_package=False) and TFX need inside the image."""
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", runtime_image).stdout)
    assert config["User"] == "1000:1000"
    out = docker("run", "--rm", "--network", "none", runtime_image, "python3", "-W", "ignore", "-c", PROBE)
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe["uid"] == 1000
    assert probe["python3"] == "/opt/venv/bin/python3" and probe["executable"].startswith("/opt/venv/")
    assert probe["tfx_kfp"] == __version__ and probe["kfp"] == "2.13.0"
    assert probe["tensorflow"] == "2.16.2" and probe["cuda"] is False, "the CPU image carries tensorflow-cpu"
    assert probe["pip"].startswith("pip ") and "/opt/venv/" in probe["pip"], "TFX pip-installs user modules"
    assert probe["home"] == "/home/tfx"
    assert all(probe["writable"].values()), probe["writable"]
    assert not any(probe["tools"].values()), f"build tools in the final image: {probe['tools']}"


def test_cli_runs_in_the_image(runtime_image):
    out = docker("run", "--rm", "--network", "none", runtime_image, "tfx-kfp", "--version")
    assert out.stdout.strip() == f"tfx-kfp {__version__}"
