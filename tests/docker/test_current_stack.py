"""The current stack's image (TFX 1.21, TensorFlow 2.21, KFP 2.17, Debian 13, Python 3.13), on our Debian 12 hosts.

Issue 21: a host with glibc < 2.38 cannot load the stack's ml-metadata/TFDV wheels, so everything of
that stack runs inside its image: the contract, the demo (train, bless, push, serve) with no network,
and our own tests on that stack in a test image (the runtime image plus the current lock's dev
group, hash-checked): the unit tier, the goldens, the KFP workarounds against kfp 2.17, the compiled
YAML against the 2.17 backend's protos, and the executors (beam tier).

Slow (two image builds on a fresh machine, then minutes of tests): CI's own step runs it
(`.ci/run`, "current stack"); elsewhere it runs when TFX_KFP_TEST_CURRENT_STACK=1.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tfx_kfp.components.image import image_tag

REPO = Path(__file__).resolve().parents[2]
ENABLE_ENV = "TFX_KFP_TEST_CURRENT_STACK"
pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(os.environ.get(ENABLE_ENV) != "1",
                       reason=f"the current stack's image tests run in CI's own step ({ENABLE_ENV}=1)"),
]
# The test image: the runtime image plus pytest & co. from the current lock (pip --require-hashes).
TEST_DOCKERFILE = """\
ARG RUNTIME_IMAGE
FROM ${RUNTIME_IMAGE}
COPY dev-requirements.txt /tmp/dev-requirements.txt
USER root
RUN python3 -m pip install --no-deps --require-hashes --no-cache-dir -r /tmp/dev-requirements.txt \\
 && rm /tmp/dev-requirements.txt
USER 1000:1000
"""
# Run inside the test image against the repository mounted read-only (tests only; the code is the image's).
IN_IMAGE_TESTS = ["tests/unit", "tests/kind/test_pipeline_spec_protos.py", "tests/executors/test_executors.py"]

PROBE = r"""
import json, os, platform, sys
import google.protobuf, kfp, numpy, tensorboard, tensorflow as tf, tfx, tfx_kfp
from tfx_kfp.components.image import image_tag
try:
    import tensorflow_io
    tfio = tensorflow_io.__version__
except ModuleNotFoundError:
    tfio = None
print(json.dumps({"python": platform.python_version(), "tfx": tfx.__version__, "tensorflow": tf.__version__,
                  "kfp": kfp.__version__, "protobuf": google.protobuf.__version__, "numpy": numpy.__version__,
                  "tensorflow_io": tfio, "debian": open("/etc/debian_version").read().strip(),
                  "uid": os.getuid(), "tag": image_tag()}))
"""


def run(*cmd, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def current_image(docker_engine) -> str:
    tag = image_tag("cpu", stack="current")
    build = run(sys.executable, "-m", "tfx_kfp.cli", "image", "build", "--stack", "current")
    assert build.returncode == 0, f"tfx-kfp image build --stack current failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    print(f"\n{build.stdout.strip().splitlines()[-1]}")
    return tag


@pytest.fixture(scope="module")
def current_test_image(current_image, tmp_path_factory) -> str:
    context = tmp_path_factory.mktemp("current-test-image")
    (context / "Dockerfile").write_text(TEST_DOCKERFILE)
    export = run("uv", "export", "--project", str(REPO / "stacks/current"), "--frozen", "--only-group", "dev",
                 "--no-emit-project", "--quiet", "-o", str(context / "dev-requirements.txt"))
    assert export.returncode == 0, export.stderr
    tag = f"{current_image}-test"
    build = run("docker", "build", "--network", "host", "--build-arg", f"RUNTIME_IMAGE={current_image}",
                "--tag", tag, str(context))
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return tag


def test_the_image_holds_the_current_stack(current_image):
    probe = run("docker", "run", "--rm", "--network", "none", current_image, "python3", "-W", "ignore", "-c", PROBE,
                timeout=300)
    assert probe.returncode == 0, probe.stderr[-3000:]
    facts = json.loads(probe.stdout.strip().splitlines()[-1])
    print(f"\ncurrent stack image: {facts}")
    assert facts["tfx"].startswith("1.21.") and facts["tensorflow"].startswith("2.21.")
    assert facts["kfp"].startswith("2.17.") and facts["protobuf"].startswith("6.")
    assert facts["python"].startswith("3.13.") and facts["debian"].startswith("13.")
    assert facts["tensorflow_io"] is None and facts["uid"] == 1000
    assert facts["tag"] == current_image, "code in the image names the image it runs in"
    size = int(run("docker", "image", "inspect", "--format", "{{.Size}}", current_image).stdout)
    print(f"current stack image size: {size / 1e9:.2f} GB")


def test_the_demo_trains_blesses_pushes_and_serves_in_the_image(current_image):
    demo = run("docker", "run", "--rm", "--network", "none", current_image, "tfx-kfp", "demo", timeout=1200)
    assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
    print(f"\n{demo.stdout.strip().splitlines()[-1]}")


def test_our_tests_pass_on_the_current_stack(current_test_image):
    """Network: host only for the backend protos' wheel download (tests/kind/protos); the rest needs none."""
    # tfx_kfp from the mounted tree, as the host's editable install does (the wheel stage's .pkg link),
    # so that code and tests are one tree and its digest names the image.
    script = ("mkdir -p /tmp/pkg && ln -s /src /tmp/pkg/tfx_kfp && PYTHONPATH=/tmp/pkg exec python3 -m pytest "
              "-p no:cacheprovider -q -m 'unit or beam or cluster_static' " + " ".join(IN_IMAGE_TESTS))
    tests = run("docker", "run", "--rm", "--network", "host", "--volume", f"{REPO}:/src:ro", "--workdir", "/src",
                "--env", "PYTHONDONTWRITEBYTECODE=1", current_test_image, "sh", "-c", script, timeout=3000)
    print(f"\n{tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else tests.stderr[-2000:]}")
    assert tests.returncode == 0, tests.stdout[-6000:] + tests.stderr[-3000:]
