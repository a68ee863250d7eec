"""The current stack's image (TFX 1.21, TensorFlow 2.21, KFP 2.17, Debian 13), on our Debian 12 hosts,
on Debian 13's Python 3.13 and on Python 3.11.

Issue 21: a host with glibc < 2.38 cannot load the stack's ml-metadata/TFDV wheels, so everything of
that stack runs inside its image: the contract, the demo (train, bless, push, serve) with no network,
the penguin pipeline compiled in the image and run by this host's docker runner, and our own tests on
that stack in a test image (the runtime image plus the current lock's dev group, hash-checked): the
unit tier, the goldens, the KFP workarounds against kfp 2.17, the compiled YAML against the 2.17
backend's protos, and tests/executors (the executors' half of the beam tier; tests/pipeline, its other
half, on request: PIPELINES_ENV).

Each runs twice (ids py3.13, py3.11). py3.13 is `tfx-kfp image build --stack current`. py3.11 is the
same Dockerfile and lock FROM a Debian 13 base whose python3 is Debian 12's python3.11
(python3.11-trixie.Dockerfile), tagged ``<current tag>-py3.11`` by this test only: code in it names
the py3.13 image, so its pipeline run points the compiled spec's images at it.

Slow (image builds on a fresh machine, then minutes of tests): CI's own step runs it
(`.ci/run`, "current stack"); elsewhere it runs when TFX_KFP_TEST_CURRENT_STACK=1.
"""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.docker.test_docker_pipeline import assert_pushed_a_servable_model, run_compiled_in_docker
from tfx_kfp import __version__
from tfx_kfp.cli.commands.image import build_command
from tfx_kfp.components.image import STACKS, image_tag, source_digest

REPO = Path(__file__).resolve().parents[2]
ENABLE_ENV = "TFX_KFP_TEST_CURRENT_STACK"
pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(os.environ.get(ENABLE_ENV) != "1",
                       reason=f"the current stack's image tests run in CI's own step ({ENABLE_ENV}=1)"),
]
PYTHONS = ("3.13", "3.11")
PY311_BASE = "tfx-kfp-base:python3.11-trixie"
PY311_BASE_DOCKERFILE = Path(__file__).with_name("python3.11-trixie.Dockerfile")
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
IN_IMAGE_TESTS = ["tests/unit", "tests/kind/test_pipeline_spec_protos.py", "tests/executors"]
# The whole-pipeline half of the beam tier, in the image too with TFX_KFP_TEST_CURRENT_STACK_PIPELINES=1:
# about 12 min a Python on our 2-core machine, which CI's 60 minutes cannot hold twice (docs/image.md).
PIPELINES_ENV = "TFX_KFP_TEST_CURRENT_STACK_PIPELINES"
if os.environ.get(PIPELINES_ENV) == "1":
    IN_IMAGE_TESTS.append("tests/pipeline")
# Known not to pass on the current stack yet, each with the issue item that makes it pass.
NOT_YET: dict = {}  # test path -> why it cannot run on the current stack yet

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
# The interpreter is complete: every shared object of it and of its extension modules resolves, and
# the modules that wrap system libraries work (TLS with the CA bundle, SQLite, decimal, ctypes, ...).
INTERPRETER_CHECK = r"""
set -e
python=$(readlink -f "$(command -v python3)")
dynload=$(python3 -c 'import sysconfig; print(sysconfig.get_config_var("DESTSHARED"))')
missing=$(for f in "$python" "$dynload"/*.so; do ldd "$f" | sed -n "s|^\s*\(.*not found\)|$f: \1|p"; done)
[ -z "$missing" ] || { echo "unresolved shared libraries:"; echo "$missing"; exit 1; }
python3 -W error - <<'EOF'
import bz2, ctypes, ctypes.util, curses, dbm, decimal, hashlib, json, lzma, os, readline, sqlite3, ssl, sys, uuid, zlib
context = ssl.create_default_context()
assert context.cert_store_stats()["x509_ca"] > 0, "no CA certificates loaded"
assert sqlite3.connect(":memory:").execute("select sqlite_version()").fetchone()[0]
assert decimal.Decimal(1) / decimal.Decimal(7) == decimal.Decimal("0.1428571428571428571428571429")
assert ctypes.CDLL(ctypes.util.find_library("c")).strlen(b"tfx") == 3
payload = b"penguins " * 1000
assert all(m.decompress(m.compress(payload)) == payload for m in (bz2, lzma, zlib))
assert hashlib.sha3_256(payload).hexdigest() and uuid.uuid4().version == 4
print(json.dumps({"python": sys.version.split()[0], "executable": os.path.realpath(sys.executable), "openssl": ssl.OPENSSL_VERSION,
                  "sqlite": sqlite3.sqlite_version}))
EOF
"""


def run(*cmd, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, **kwargs)


def _build_py311_variant(tag: str) -> None:
    """The Python 3.11 base (pip from the current lock, hash-checked), then the runtime image FROM it."""
    lock = tomllib.loads((REPO / STACKS["current"].lock_dir / "uv.lock").read_text())
    pip = next(p for p in lock["package"] if p["name"] == "pip")["wheels"][0]
    base = run("docker", "build", "--network", "host", "--tag", PY311_BASE, "--file", str(PY311_BASE_DOCKERFILE),
               "--build-arg", f"DEBIAN13_IMAGE={STACKS['current'].base_image}",
               "--build-arg", f"PIP_WHEEL_URL={pip['url']}", "--build-arg", f"PIP_SHA256={pip['hash'].split(':')[1]}",
               str(PY311_BASE_DOCKERFILE.parent))
    assert base.returncode == 0, base.stdout[-3000:] + base.stderr[-3000:]
    # The digest image_tag() used for ``tag``, so that the image records the source its tag names.
    cmd = build_command("docker", tag, "cpu", REPO, "host", [f"PYTHON_IMAGE={PY311_BASE}"], __version__,
                        source_digest(), "current")
    build = run(*cmd)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]


@pytest.fixture(scope="module", params=PYTHONS, ids=[f"py{p}" for p in PYTHONS])
def current_image(request, docker_engine) -> str:
    tag = image_tag("cpu", stack="current")
    if request.param == "3.11":
        tag = f"{tag}-py3.11"
        _build_py311_variant(tag)
    else:
        build = run(sys.executable, "-m", "tfx_kfp.cli", "image", "build", "--stack", "current")
        assert build.returncode == 0, f"tfx-kfp image build --stack current failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    size = int(run("docker", "image", "inspect", "--format", "{{.Size}}", tag).stdout)
    print(f"\n{tag}: Python {request.param}, {size / 1e9:.2f} GB")
    return tag


@pytest.fixture(scope="module")
def python_version(current_image) -> str:
    return "3.11" if current_image.endswith("-py3.11") else "3.13"


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


def test_the_image_holds_the_current_stack(current_image, python_version):
    probe = run("docker", "run", "--rm", "--network", "none", current_image, "python3", "-W", "ignore", "-c", PROBE,
                timeout=300)
    assert probe.returncode == 0, probe.stderr[-3000:]
    facts = json.loads(probe.stdout.strip().splitlines()[-1])
    print(f"\ncurrent stack image: {facts}")
    assert facts["tfx"].startswith("1.21.") and facts["tensorflow"].startswith("2.21.")
    assert facts["kfp"].startswith("2.17.") and facts["protobuf"].startswith("6.")
    assert facts["python"].startswith(f"{python_version}.") and facts["debian"].startswith("13.")
    assert facts["numpy"].startswith("1.26." if python_version == "3.11" else "2.")
    assert facts["tensorflow_io"] is None and facts["uid"] == 1000
    assert facts["tag"] == image_tag("cpu", stack="current"), "code in the image names the stack's image"


def test_the_interpreter_is_complete(current_image, python_version):
    check = run("docker", "run", "--rm", "--network", "none", current_image, "sh", "-c", INTERPRETER_CHECK,
                timeout=300)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    facts = json.loads(check.stdout.strip().splitlines()[-1])
    print(f"\ninterpreter: {facts}")
    assert facts["python"].startswith(f"{python_version}.")


def test_the_demo_trains_blesses_pushes_and_serves_in_the_image(current_image):
    demo = run("docker", "run", "--rm", "--network", "none", current_image, "tfx-kfp", "demo", timeout=1200)
    assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
    print(f"\n{demo.stdout.strip().splitlines()[-1]}")


def _without_image_and_sdk(spec: str) -> str:
    return re.sub(r"(?m)^(\s*image: |sdkVersion: kfp-)\S+$", r"\1<...>", spec)


def test_penguin_pipeline_on_the_docker_runner(current_image, python_version, tmp_path):
    """Compiled in the image (kfp 2.17, as a current-stack user compiles it), run by this host's docker runner."""
    data, serving = str(REPO / "pipelines/penguin/data"), tmp_path / "serving_model" / "penguin"
    options = ["compile", "--pipeline", "penguin", "--target", "local", "--param", f"data_root={data}",
               "--param", f"serving_base_dir={serving}", "-o"]
    compiled = run("docker", "run", "--rm", "--network", "none", "--user", f"{os.getuid()}:{os.getgid()}",
                   "--env", "HOME=/tmp", "--volume", f"{tmp_path}:{tmp_path}", "--volume", f"{data}:{data}:ro",
                   current_image, "tfx-kfp", *options, str(tmp_path / "p.yaml"), timeout=300)
    assert compiled.returncode == 0, compiled.stderr[-3000:]
    on_host = run(sys.executable, "-m", "tfx_kfp.cli", *options, str(tmp_path / "host.yaml"), timeout=300)
    assert on_host.returncode == 0, on_host.stderr[-3000:]
    spec = (tmp_path / "p.yaml").read_text()
    assert "sdkVersion: kfp-2.17." in spec and f"image: {image_tag('cpu', stack='current')}\n" in spec
    assert _without_image_and_sdk(spec) == _without_image_and_sdk((tmp_path / "host.yaml").read_text()), \
        "the host (kfp 2.13) compiles another spec than the current stack's kfp 2.17, beyond image and SDK version"
    if current_image != image_tag("cpu", stack="current"):  # the py3.11 variant: this test's tag
        (tmp_path / "p.yaml").write_text(spec.replace(f"image: {image_tag('cpu', stack='current')}\n",
                                                      f"image: {current_image}\n"))

    pipeline_run = run_compiled_in_docker(tmp_path, "p.yaml")
    version_dir = assert_pushed_a_servable_model(pipeline_run, str(serving), current_image)
    print(f"\n{pipeline_run.stdout.strip().splitlines()[-1]}")

    # The tasks ran the current stack: TFMA 0.52 (TFX 1.21's) wrote the evaluation, TF 2.21 the model,
    # from the image's venv on its Python.
    (run_dir,) = (tmp_path / "pipeline-root").glob("penguin-*")  # beside it: the task cache
    evaluation = json.loads((run_dir / "evaluator" / "evaluation" / "eval_config.json").read_text())
    assert evaluation["version"].startswith("0.52."), evaluation["version"]
    logs = "".join(log.read_text(errors="replace") for log in (run_dir / "logs").iterdir())
    assert f"/opt/venv/lib/python{python_version}/site-packages/" in logs
    saved = run("docker", "run", "--rm", "--network", "none", "--volume", f"{version_dir}:/model:ro", current_image,
                "python3", "-c", "from tensorflow.core.protobuf import saved_model_pb2 as s; m = s.SavedModel(); "
                "m.ParseFromString(open('/model/saved_model.pb', 'rb').read()); "
                "print(m.meta_graphs[0].meta_info_def.tensorflow_version)", timeout=300)
    assert saved.stdout.strip().splitlines()[-1].startswith("2.21."), saved.stdout + saved.stderr[-2000:]


def test_our_tests_pass_on_the_current_stack(current_test_image):
    """Network: host only for the backend protos' wheel download (tests/kind/protos); the rest needs none."""
    # tfx_kfp from the mounted tree, as the host's editable install does (the wheel stage's .pkg link),
    # so that code and tests are one tree and its digest names the image.
    script = ("mkdir -p /tmp/pkg && ln -s /src /tmp/pkg/tfx_kfp && PYTHONPATH=/tmp/pkg exec python3 -m pytest "
              "-p no:cacheprovider -q -m 'unit or beam or cluster_static' " + " ".join(IN_IMAGE_TESTS)
              + "".join(f" --deselect {path}" for path in NOT_YET))
    print(f"\nnot run on the current stack yet: {NOT_YET}")
    tests = run("docker", "run", "--rm", "--network", "host", "--volume", f"{REPO}:/src:ro", "--workdir", "/src",
                "--env", "PYTHONDONTWRITEBYTECODE=1", current_test_image, "sh", "-c", script, timeout=3000)
    print(f"\n{tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else tests.stderr[-2000:]}")
    assert tests.returncode == 0, tests.stdout[-6000:] + tests.stderr[-3000:]
