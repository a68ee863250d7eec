"""Test tiers, assigned by folder so that a marker always tells the truth.

    tests/unit/          unit            no TensorFlow/TFX/Beam import (asserted below)
    tests/serving/       serving         model server and client on real SavedModels
    tests/executors/, tests/pipeline/    beam    real TFX executors and pipelines
    tests/docker/        docker          the runtime image
    tests/kind/          cluster_static  cluster files checked offline
    tests/reports/       unit, except browser (Chromium) and beam tests marked in the file
    static (marked)      Pyright over every import; a fresh base install (tens of seconds, no TensorFlow)

Select a tier with ``-m``, e.g. ``uv run pytest -m unit``.
"""

import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# As in every task's container (runtime/task_env.py): in-process runs share this process's TensorFlow.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

TIER_BY_FOLDER = {
    "unit": "unit",
    "serving": "serving",
    "executors": "beam",
    "pipeline": "beam",
    "docker": "docker",
    "kind": "cluster_static",
    "reports": "unit",
}
TIERS = set(TIER_BY_FOLDER.values()) | {"browser", "static"}
HEAVY_MODULES = ("tensorflow", "tfx", "apache_beam")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    tests_root = os.path.dirname(__file__)
    for item in items:
        if any(item.get_closest_marker(tier) for tier in TIERS):
            continue
        folder = os.path.relpath(str(item.path), tests_root).split(os.sep)[0]
        item.add_marker(TIER_BY_FOLDER.get(folder, "unit"))


def pytest_sessionfinish(session, exitstatus):
    """A run of only unit tests must not have imported TensorFlow, TFX or Beam."""
    items = getattr(session, "items", [])
    if not items or exitstatus != 0 or not all(item.get_closest_marker("unit") for item in items):
        return
    loaded = sorted(name for name in HEAVY_MODULES if name in sys.modules)
    if loaded:
        session.exitstatus = 1
        print(f"\nunit tier imported {', '.join(loaded)}: a unit test (or what it imports) is not TF-free")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """A session that imported tensorflow-io 0.37.1 (the object-store tests) would crash at interpreter
    exit (tensorflow/io#2039, see tfx_kfp.runtime.object_store); end it here with pytest's own status."""
    session = getattr(config, "_tfx_kfp_session", None)
    if session is not None and "tensorflow_io" in sys.modules:
        from tfx_kfp.runtime.object_store import exit_now_if_tensorflow_io_loaded

        exit_now_if_tensorflow_io_loaded(int(session.exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    session.config._tfx_kfp_session = session
