"""What an in-process run starts ahead of a task's turn (``tfx_kfp.local.prestart``), read from the compiled YAML."""

import os

from tfx_kfp import local
from tfx_kfp.local import prestart

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(__file__)), "golden")


def _training():
    return local.load(os.path.join(GOLDEN, "training.yaml"))


def _data_root(tmp_path, size: int) -> dict:
    tmp_path = tmp_path / str(size)
    tmp_path.mkdir()
    with open(tmp_path / "data.csv", "wb") as f:
        f.truncate(size)  # sparse: the size counts
    return {"data_root": str(tmp_path), "beam_pipeline_args": []}


def test_the_training_pipeline_prestarts_the_loader_and_the_beam_pool_with_the_tasks_env(monkeypatch, tmp_path):
    from tfx_kfp.runtime.beam_defaults import WARM_POOL_MIN_INPUT_BYTES

    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    found = prestart._prestartable(_training(), _data_root(tmp_path, WARM_POOL_MIN_INPUT_BYTES + 1))
    assert sorted(found) == [("tfx_kfp.components.infra_validator.load_check", {"TF_USE_LEGACY_KERAS": "1"}),
                             ("tfx_kfp.runtime.beam_warm_pool", {"TF_USE_LEGACY_KERAS": "1"})]


def test_a_run_with_beam_args_or_small_input_starts_no_pool(tmp_path):
    from tfx_kfp.runtime.beam_defaults import WARM_POOL_MIN_INPUT_BYTES

    big = _data_root(tmp_path, WARM_POOL_MIN_INPUT_BYTES + 1)
    for parameters in ({**big, "beam_pipeline_args": ["--direct_running_mode=in_memory"]},
                       _data_root(tmp_path, WARM_POOL_MIN_INPUT_BYTES), {}):
        found = prestart._prestartable(_training(), parameters)
        assert [name for name, _ in found] == ["tfx_kfp.components.infra_validator.load_check"]


def test_an_explicit_environment_value_wins_as_for_the_task_itself(monkeypatch):
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "0")
    for _, env in prestart._prestartable(_training(), {}):
        assert env == {"TF_USE_LEGACY_KERAS": "0"}


def test_every_prestart_module_offers_prestart_and_discard():
    import importlib

    for function, (module_name, _) in prestart.PRESTARTS.items():
        module = importlib.import_module(module_name)  # stdlib only: no TensorFlow in this tier
        assert callable(module.prestart) and callable(module.discard_prestarted), function
