"""The InfraValidator's loader process started ahead of the load (``load_check.prestart``).

A prestarted loader gives the same result as one started at the load, its output reaches the task's
stderr after the load, the load limit still applies to it, and one that no load used is stopped.
"""

import os
import time

from tests._support import chain, infra
from tfx_kfp.components.infra_validator import load_check

MODEL = os.path.join(chain.FIXTURES, "model", "Format-Serving")
TAGS = ["serve"]


def _prestarted_pid() -> int:
    assert load_check._prestarted is not None
    return load_check._prestarted.process.pid


def _gone(pid: int, within_s: float = 10) -> bool:
    deadline = time.monotonic() + within_s
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    return not os.path.exists(f"/proc/{pid}")


def test_a_prestarted_loader_loads_as_a_fresh_one_and_its_output_reaches_stderr(capfd):
    fresh, fresh_error = load_check.load_in_child(MODEL, TAGS, timeout_s=120)
    capfd.readouterr()
    load_check.prestart()
    pid = _prestarted_pid()
    prestarted, prestarted_error = load_check.load_in_child(MODEL, TAGS, timeout_s=120)
    assert fresh_error == prestarted_error == ""
    from tensorflow.core.protobuf import meta_graph_pb2

    # the same MetaGraphDef: signatures and tags (TF 2.21 numbers some graph internals per load)
    first, second = (meta_graph_pb2.MetaGraphDef.FromString(data) for data in (fresh, prestarted))
    assert first.signature_def == second.signature_def and len(first.signature_def) > 0
    assert first.meta_info_def.tags == second.meta_info_def.tags
    assert load_check._prestarted is None and _gone(pid)  # used once, then it ended
    assert "saved_model" in capfd.readouterr().err.lower()  # TF's loader messages, copied after the load


def test_the_load_limit_applies_to_a_prestarted_loader(tmp_path):
    infra.save_model_whose_init_op_blocks(str(tmp_path))
    load_check.prestart()
    pid = _prestarted_pid()
    data, error = load_check.load_in_child(os.path.join(tmp_path, "model", "Format-Serving"), TAGS, timeout_s=5)
    assert data is None and "did not load within 5 s" in error
    assert _gone(pid)


def test_an_unused_prestarted_loader_is_stopped():
    load_check.prestart()
    pid = _prestarted_pid()
    load_check.prestart()  # idempotent: still the same process
    assert _prestarted_pid() == pid
    load_check.discard_prestarted()
    assert load_check._prestarted is None and _gone(pid)
