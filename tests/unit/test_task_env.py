"""The task environment: a caller's explicit value wins, and it is part of the local cache key (issue 18)."""

import types

from tfx_kfp.local.cache import TaskCache
from tfx_kfp.runtime import task_env


def test_the_specs_env_unless_the_caller_set_the_variable():
    spec = task_env.spec_env({"env": [{"name": "TF_USE_LEGACY_KERAS", "value": "1"}]})
    assert spec == {"TF_USE_LEGACY_KERAS": "1"}
    assert task_env.effective(spec, {}) == {"TF_USE_LEGACY_KERAS": "1"}
    assert task_env.effective(spec, {"TF_USE_LEGACY_KERAS": "0", "OTHER": "x"}) == {"TF_USE_LEGACY_KERAS": "0"}
    assert task_env.spec_env({}) == {}


def test_the_environment_is_part_of_the_local_cache_key():
    fingerprint = "f" * 64
    assert TaskCache.key(fingerprint, {}) == fingerprint  # a spec without env: the backend's key unchanged
    keras2 = TaskCache.key(fingerprint, {"TF_USE_LEGACY_KERAS": "1"})
    keras3 = TaskCache.key(fingerprint, {"TF_USE_LEGACY_KERAS": "0"})
    assert len({fingerprint, keras2, keras3}) == 3


def test_a_process_that_imported_tensorflow_the_other_way_is_told(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorflow", types.SimpleNamespace(_tf_uses_legacy_keras=False))
    message = task_env.tensorflow_keras_mismatch({"TF_USE_LEGACY_KERAS": "1"})
    assert "use Keras 3 although the spec asks for TF_USE_LEGACY_KERAS=1" in message
    assert task_env.tensorflow_keras_mismatch({"TF_USE_LEGACY_KERAS": "0"}) is None
    monkeypatch.setitem(sys.modules, "tensorflow", types.SimpleNamespace(_tf_uses_legacy_keras=True))
    assert task_env.tensorflow_keras_mismatch({"TF_USE_LEGACY_KERAS": "1"}) is None
