"""The Pusher's file operations: atomic versions, idempotent retries, never an unblessed model.

These use a real SavedModel-shaped folder (files only); the pushed model is
loaded with TensorFlow in the slow pipeline tests.
"""

import json
import os
import threading

import pytest
from kfp.dsl import Markdown

from tfx_kfp.runtime.errors import PushError
from tfx_kfp.components import names
from tfx_kfp.components.pusher import executor as push
from tfx_kfp.components.types import Model, ModelBlessing, PushedModel


def _model(tmp_path, content=b"graph"):
    serving = tmp_path / "model" / names.SERVING_MODEL_DIR
    (serving / "variables").mkdir(parents=True)
    (serving / "saved_model.pb").write_bytes(content)
    (serving / "variables" / "variables.index").write_bytes(b"index")
    return Model(uri=str(tmp_path / "model"), metadata={"signatures": {"serving_default": {
        "inputs": {"x": {"dtype": "float32", "shape": [-1.0]}}, "outputs": {"y": {"dtype": "float32", "shape": [-1]}}}}})


def _blessing(tmp_path, blessed: bool):
    path = tmp_path / "blessing"
    path.mkdir()
    (path / ("BLESSED" if blessed else "NOT_BLESSED")).write_text("")
    return ModelBlessing(uri=str(path), metadata={"blessed": int(blessed)})


def _run(tmp_path, model, blessing, base, name="pushed"):
    pushed = PushedModel(uri=str(tmp_path / name))
    report = Markdown(uri=str(tmp_path / f"{name}.md"))
    push.run(model=model, blessing=blessing, serving_base_dir=str(base), pushed_model=pushed, report=report,
             evaluation_metrics=None, source_run="", infra_blessing=None)
    return pushed, (tmp_path / f"{name}.md").read_text()


def test_blessed_model_is_pushed_to_a_numeric_version(tmp_path):
    base = tmp_path / "serving"
    pushed, report = _run(tmp_path, _model(tmp_path), _blessing(tmp_path, True), base)
    assert pushed.metadata["pushed"] == 1
    version = pushed.metadata["pushed_version"]
    assert sorted(os.listdir(base)) == [push.LAST_PUSH_RECORD, str(version)]
    assert json.loads((base / push.LAST_PUSH_RECORD).read_text())["version"] == version
    assert (base / str(version) / "saved_model.pb").read_bytes() == b"graph"
    assert (base / str(version) / "variables" / "variables.index").exists()
    assert json.loads((base / str(version) / push.PUSH_RECORD).read_text())["fingerprint"]
    assert "**Pushed.**" in report and str(version) in report and "| input | x | float32 | [any] |" in report


def test_unblessed_model_is_never_pushed(tmp_path):
    base = tmp_path / "serving"
    pushed, report = _run(tmp_path, _model(tmp_path), _blessing(tmp_path, False), base)
    assert pushed.metadata["pushed"] == 0
    assert not base.exists() or os.listdir(base) == []
    assert "**Not pushed.**" in report and "did not bless" in report


def test_blessing_file_is_used_when_metadata_is_absent(tmp_path):
    blessing = _blessing(tmp_path, False)
    assert not push.is_blessed(blessing.path, {})
    (tmp_path / "blessing" / "BLESSED").write_text("")
    assert push.is_blessed(blessing.path, {})


def test_retried_push_of_the_same_model_reuses_its_version(tmp_path):
    base = tmp_path / "serving"
    model, blessing = _model(tmp_path), _blessing(tmp_path, True)
    first, _ = _run(tmp_path, model, blessing, base, "first")
    second, report = _run(tmp_path, model, blessing, base, "second")
    assert second.metadata["pushed_version"] == first.metadata["pushed_version"]
    assert len(push.existing_versions(str(base))) == 1
    assert json.loads((base / push.LAST_PUSH_RECORD).read_text())["outcome"] == "already-pushed"
    assert "already pushed" in report


def test_a_different_model_gets_a_newer_version(tmp_path):
    base = tmp_path / "serving"
    first = push.push_saved_model(os.path.join(_model(tmp_path / "a", b"one").path, names.SERVING_MODEL_DIR), str(base))
    second = push.push_saved_model(os.path.join(_model(tmp_path / "b", b"two").path, names.SERVING_MODEL_DIR), str(base))
    assert second[0] > first[0] and first[2] and second[2]


def test_no_partial_version_is_ever_visible(tmp_path):
    """A watcher polling the base path only ever sees complete numeric versions."""
    base = tmp_path / "serving"
    base.mkdir()
    model = _model(tmp_path)
    (tmp_path / "model" / names.SERVING_MODEL_DIR / "big.bin").write_bytes(os.urandom(8 << 20))
    seen_incomplete = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            for version, path in push.existing_versions(str(base)).items():
                if not os.path.exists(os.path.join(path, push.PUSH_RECORD)):
                    seen_incomplete.append(version)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(3):
            (tmp_path / "model" / names.SERVING_MODEL_DIR / "saved_model.pb").write_bytes(b"graph %d" % i)
            push.push_saved_model(os.path.join(model.path, names.SERVING_MODEL_DIR), str(base))
    finally:
        stop.set()
        watcher.join()
    assert seen_incomplete == []
    assert len(push.existing_versions(str(base))) == 3
    assert [n for n in os.listdir(base) if not n.isdigit()] == []


def test_not_a_saved_model(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(PushError, match="no saved_model.pb"):
        push.push_saved_model(str(tmp_path / "empty"), str(tmp_path / "serving"))


def test_serving_base_dir_is_required(tmp_path):
    with pytest.raises(PushError, match="serving_base_dir is required"):
        push.run(model=_model(tmp_path), blessing=_blessing(tmp_path, True), serving_base_dir="",
                 pushed_model=PushedModel(uri=str(tmp_path / "p")), report=Markdown(uri=str(tmp_path / "r")),
                 evaluation_metrics=None, source_run="", infra_blessing=None)


def test_a_model_the_infra_validator_did_not_bless_is_never_pushed(tmp_path):
    from tfx_kfp.components.types import InfraBlessing

    base = tmp_path / "serving"
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "INFRA_NOT_BLESSED").write_text("")
    pushed = PushedModel(uri=str(tmp_path / "pushed"))
    push.run(model=_model(tmp_path), blessing=_blessing(tmp_path, True), serving_base_dir=str(base),
             pushed_model=pushed, report=Markdown(uri=str(tmp_path / "r.md")), evaluation_metrics=None,
             source_run="run-1", infra_blessing=InfraBlessing(uri=str(infra), metadata={"blessed": 0}))
    assert pushed.metadata[names.META_PUSHED] == 0
    assert "InfraValidator did not bless" in (tmp_path / "r.md").read_text()
    assert not base.exists() or not os.listdir(base)


def test_the_push_record_says_what_was_replaced_and_with_which_metrics(tmp_path):
    from kfp.dsl import Metrics

    base = tmp_path / "serving"
    first, _ = _run(tmp_path, _model(tmp_path / "a", b"one"), _blessing(tmp_path / "a", True), base, "first")
    metrics = Metrics(uri=str(tmp_path / "m"), metadata={"accuracy": 0.97, "loss": float("nan")})
    second = PushedModel(uri=str(tmp_path / "second"))
    push.run(model=_model(tmp_path / "b", b"two"), blessing=_blessing(tmp_path / "b", True), serving_base_dir=str(base),
             pushed_model=second, report=Markdown(uri=str(tmp_path / "second.md")), evaluation_metrics=metrics,
             source_run="run-2", infra_blessing=None)
    assert second.metadata[names.META_REPLACED_VERSION] == first.metadata[names.META_PUSHED_VERSION]
    with open(os.path.join(second.metadata[names.META_PUSHED_DESTINATION], push.PUSH_RECORD)) as f:
        record = json.load(f)
    assert record["replaced_version"] == first.metadata[names.META_PUSHED_VERSION]
    assert record["metrics"] == {"accuracy": 0.97} and record["run"] == "run-2"  # NaN left out
    assert record["blessing"]["blessed"] == 1
    assert "replaces version" in (tmp_path / "second.md").read_text()
