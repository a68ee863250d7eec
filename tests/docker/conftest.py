"""Docker fixtures: the engine (or a skip that says why not) and the built runtime image.

On our machines `../shared/tools/docker-up.sh` starts the engine and provides
the base image; on a GitHub runner Docker is there already. The image is built
with `tfx-kfp image build`, so the layer cache makes a rebuild of unchanged
sources take seconds.
"""

import shutil
import subprocess
import sys

import pytest

from tfx_kfp.components.image import image_tag


def docker(*args, check=True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session")
def docker_engine() -> str:
    if shutil.which("docker") is None:
        pytest.skip("no Docker engine: the docker CLI is not on PATH")
    info = docker("info", "--format", "{{.ServerVersion}}", check=False)
    if info.returncode != 0:
        pytest.skip(f"no Docker engine: `docker info` failed ({(info.stderr or info.stdout).strip()[-200:]})")
    return info.stdout.strip()


@pytest.fixture(scope="session")
def runtime_image(docker_engine) -> str:
    """The CPU runtime image, built from this tree (cached layers make this fast when unchanged)."""
    tag = image_tag("cpu")
    build = subprocess.run([sys.executable, "-m", "tfx_kfp.cli", "image", "build"], capture_output=True, text=True)
    assert build.returncode == 0, f"tfx-kfp image build failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    last = build.stdout.strip().splitlines()[-1]
    assert last.startswith(f"built {tag} (cpu, "), last
    print(f"\n{last}")
    return tag
