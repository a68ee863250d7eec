"""What an in-process run starts ahead of a task's turn (``tfx_kfp.local.prestart``), read from the compiled YAML."""

import os

from tfx_kfp import local
from tfx_kfp.local import prestart

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(__file__)), "golden")


def test_the_training_pipeline_prestarts_the_infra_validators_loader_with_the_tasks_env(monkeypatch):
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    found = prestart._prestartable(local.load(os.path.join(GOLDEN, "training.yaml")))
    assert found == [("tfx_kfp.components.infra_validator.load_check", {"TF_USE_LEGACY_KERAS": "1"})]


def test_an_explicit_environment_value_wins_as_for_the_task_itself(monkeypatch):
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "0")
    [(_, env)] = prestart._prestartable(local.load(os.path.join(GOLDEN, "training.yaml")))
    assert env == {"TF_USE_LEGACY_KERAS": "0"}


def test_every_prestart_module_offers_prestart_and_discard():
    import importlib

    for function, module_name in prestart.PRESTARTS.items():
        module = importlib.import_module(module_name)  # stdlib only: no TensorFlow in this tier
        assert callable(module.prestart) and callable(module.discard_prestarted), function
