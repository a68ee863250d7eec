"""Packaging: `pip install .` (no extras) is one namespace with a command that compiles and submits.

The base install is kfp only: it must not bring TensorFlow, TFX or Beam, and its ``tfx-kfp compile``
must write the same pipeline as the full development install.
"""

import json
import os
import pkgutil
import shutil
import subprocess
import sys

import pytest
import yaml

import tfx_kfp
from tfx_kfp.cli import commands
from tfx_kfp.components.image import DEFAULT_IMAGE_REPOSITORY, RUNTIME_IMAGE
from tfx_kfp.pipelines import compile_pipeline, penguin_pipeline

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY_MODULES = ("tensorflow", "tfx", "apache_beam")
COMMANDS = sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))


@pytest.fixture(scope="module")
def base_install(tmp_path_factory):
    """A fresh virtual environment with ``uv pip install <repo>`` (no extras): what an author installs."""
    uv = shutil.which("uv")
    assert uv, "uv (the project's installer) must be on PATH"
    venv = tmp_path_factory.mktemp("base") / "venv"
    build_dir = os.path.join(REPO, "build")  # setuptools builds the wheel in the source tree
    had_build_dir = os.path.exists(build_dir)
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, timeout=120)
    try:
        subprocess.run([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), REPO],
                       check=True, timeout=600)
    finally:
        if not had_build_dir:
            shutil.rmtree(build_dir, ignore_errors=True)
    return venv


def _python_in(venv, code: str, **env) -> str:
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd="/",
                         env={**os.environ, **env}, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.static
def test_base_install_is_one_namespace_with_its_data_a_command_and_no_tensorflow(base_install):
    code = ("import importlib.util, json; from importlib import metadata; d = metadata.distribution('tfx-kfp'); "
            f"print(json.dumps({{'heavy': [m for m in {HEAVY_MODULES!r} if importlib.util.find_spec(m)], "
            "'files': [str(f) for f in d.files if not str(f).startswith('..')], "  # ../: the bin/ script
            "'scripts': [f'{e.name} = {e.value}' for e in d.entry_points.select(group='console_scripts')]}))")
    installed = json.loads(_python_in(base_install, code))
    assert installed["heavy"] == []
    files = set(installed["files"])
    assert {f.split("/")[0] for f in files} == {"tfx_kfp", "tfx_kfp-0.1.0.dist-info"}
    assert {"tfx_kfp/components/example_gen/component.py", "tfx_kfp/pipelines/training.py",
            "tfx_kfp/pipelines/penguin/data/penguins_processed.csv", "tfx_kfp/pipelines/penguin/penguin_module.py",
            "tfx_kfp/serving/__init__.py", "tfx_kfp/kfp_workarounds.py"} <= files
    assert not [f for f in files if f.startswith(("tfx_kfp/tests/", "tfx_kfp/bench/", "tfx_kfp/deploy/"))]
    assert installed["scripts"] == ["tfx-kfp = tfx_kfp.cli:main"]


@pytest.mark.static
def test_base_install_compiles_the_same_penguin_pipeline_as_the_full_install(base_install, tmp_path):
    base_yaml, full_yaml = tmp_path / "base.yaml", tmp_path / "full.yaml"
    subprocess.run([str(base_install / "bin" / "tfx-kfp"), "compile", "--pipeline", "penguin", "-o", str(base_yaml)],
                   check=True, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    compile_pipeline(penguin_pipeline("kind"), str(full_yaml))  # what `tfx-kfp compile` does by default
    # Installed from a wheel there is no source tree to digest: the image tag is the package version alone.
    wheel_image = f"{DEFAULT_IMAGE_REPOSITORY}:{tfx_kfp.__version__}"
    assert base_yaml.read_text() == full_yaml.read_text().replace(RUNTIME_IMAGE, wheel_image)
    executors = next(yaml.safe_load_all(base_yaml.read_text()))["deploymentSpec"]["executors"]
    assert base_yaml.read_text().count(f"image: {wheel_image}\n") == len(executors) == 11  # one per component


@pytest.mark.static
def test_base_install_offers_every_command_and_submit(base_install):
    """Submitting needs our submit command and the KFP client; no cluster here, so --help and the import."""
    out = subprocess.run([str(base_install / "bin" / "tfx-kfp"), "submit", "--help"], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("usage: tfx-kfp submit")
    code = ("import kfp, pkgutil, tfx_kfp.cluster, tfx_kfp.cli.commands as c; "
            "print(kfp.Client.__name__, kfp.__version__, "
            "*sorted(m.name for m in pkgutil.iter_modules(c.__path__) if not m.name.startswith('_')))")
    assert _python_in(base_install, code).split() == ["Client", "2.13.0", *COMMANDS]
    assert {"compile", "submit", "run", "serve"} <= set(COMMANDS)


def test_authoring_and_cluster_imports_do_not_load_tensorflow_tfx_or_beam_in_the_full_install():
    """Authoring, compiling and the cluster client (``import tfx_kfp.cluster``) need kfp only."""
    code = ("import sys, tfx_kfp.pipelines, tfx_kfp.components, tfx_kfp.cluster, tfx_kfp.cli; "
            "print(*sorted(sys.modules), sep='\\n')")
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                            cwd="/").stdout.split()
    assert "tfx_kfp.cli" in loaded and "tfx_kfp.cluster.submit" in loaded
    assert [name for name in loaded if name.split(".")[0] in HEAVY_MODULES] == []


def test_no_postponed_annotations_in_component_or_pipeline_modules():
    offenders = []
    for folder in ("components", "pipelines"):
        for root, _, files in os.walk(os.path.join(REPO, folder)):
            for name in files:
                if name.endswith(".py"):
                    with open(os.path.join(root, name)) as f:
                        if "from __future__ import annotations" in f.read():
                            offenders.append(os.path.join(root, name))
    assert offenders == []


def test_a_running_task_can_import_our_types_and_executors_helpers():
    """Inside a task KFP sets _KFP_RUNTIME=true and kfp.dsl has no `component`: our runtime imports must cope."""
    code = ("from kfp.dsl import *; from tfx_kfp.components.types import Examples, Model; "
            "import tfx_kfp.components.names, tfx_kfp.runtime.errors, "
            "tfx_kfp.runtime.staging, tfx_kfp.components.pusher.executor; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/",
                         env={**os.environ, "_KFP_RUNTIME": "true"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.mark.static
def test_the_built_wheel_ships_the_listed_packages_and_no_setup_py(tmp_path):
    """The root is the package, so without care setuptools ships ``tfx_kfp/setup.py`` (whose import exits)."""
    import zipfile

    from tests._support.package_folders import SUBPACKAGES

    uv = shutil.which("uv")
    assert uv, "uv (the project's installer) must be on PATH"
    build_dir = os.path.join(REPO, "build")  # setuptools builds in the source tree
    had_build_dir = os.path.exists(build_dir)
    try:
        subprocess.run([uv, "build", "-q", "--wheel", "-o", str(tmp_path), REPO], check=True, timeout=600)
    finally:
        if not had_build_dir:
            shutil.rmtree(build_dir, ignore_errors=True)
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.endswith("setup.py")]
    top = {n.split("/")[1] for n in names if n.startswith("tfx_kfp/")}
    assert top == {*SUBPACKAGES, "__init__.py", "kfp_workarounds.py"}

