"""Packaging: one import namespace, a console command, and light authoring imports."""

import os
import subprocess
import sys
import zipfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _modules_after(statement: str) -> set:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd="/")
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["tfx_kfp.pipelines", "tfx_kfp.components", "tfx_kfp.cli"])
def test_authoring_imports_do_not_load_tensorflow_or_tfx(module):
    loaded = _modules_after(f"import {module}")
    assert "tensorflow" not in loaded
    assert not any(name == "tfx" or name.startswith("tfx.") for name in loaded)
    assert not any(name.startswith("apache_beam") for name in loaded)


def test_compiling_a_pipeline_does_not_load_tensorflow(tmp_path):
    loaded = _modules_after(
        "from tfx_kfp.pipelines import compile_pipeline, penguin_pipeline; "
        f"compile_pipeline(penguin_pipeline('kind'), {str(tmp_path / 'p.yaml')!r})"
    )
    assert "tensorflow" not in loaded


def test_wheel_installs_one_namespace(tmp_path):
    subprocess.run(["uv", "build", "--wheel", "--out-dir", str(tmp_path), REPO], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"tfx_kfp"}, f"unexpected top-level entries in {wheel.name}: {sorted(top_level)}"
    for expected in ("tfx_kfp/components/example_gen/component.py", "tfx_kfp/pipelines/training.py",
                     "tfx_kfp/pipelines/penguin/data/penguins_processed.csv",
                     "tfx_kfp/pipelines/penguin/penguin_module.py", "tfx_kfp/serving/__init__.py"):
        assert expected in names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "tfx-kfp = tfx_kfp.cli:main" in entry_points


def test_console_command_lists_commands():
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "tfx-kfp"), "--help"],
                         check=True, capture_output=True, text=True).stdout
    for command in ("compile", "run", "demo"):
        assert command in out


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
            "tfx_kfp.runtime.staging, tfx_kfp.components.pusher.push; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/",
                         env={**os.environ, "_KFP_RUNTIME": "true"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
