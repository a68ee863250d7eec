"""Model lifecycle: version polling, policies, labels, failed loads, unloads, warmup."""

import json
import os
import shutil
import time

import pytest

from tests._support.serving import RawHttp, parsed, reply
from tests._support import serving_models
from tfx_kfp.serving import NotFound, ServingClient, Unavailable, server


def wait_until(predicate, timeout=60.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


def states(handle, name):
    return {s.version: s.state for s in handle.manager.version_statuses(name)}


@pytest.fixture(scope="module")
def versions_root(models_root):
    """Base paths with versions 1, 2, 3 of y = 0.5x + <version> (built once)."""
    root = os.path.join(models_root, "lifecycle")
    for version in (1, 2, 3):
        serving_models.write_half_plus_two(os.path.join(root, "source"), version, offset=float(version))
    return root


def copy_versions(versions_root, tmp_path, name, versions):
    base = tmp_path / name
    base.mkdir()
    for version in versions:
        shutil.copytree(os.path.join(versions_root, "source", str(version)), base / str(version))
    return str(base)


def start(*args, **kwargs):
    kwargs.setdefault("rest_port", 0)
    kwargs.setdefault("grpc_port", 0)
    kwargs.setdefault("poll_seconds", 0.1)
    kwargs.setdefault("max_num_load_retries", 0)
    return server.start(*args, **kwargs)


def test_latest_version_serves_and_new_versions_replace_it(versions_root, tmp_path):
    base = copy_versions(versions_root, tmp_path, "m", [1])
    with start("m", base) as handle:
        handle.wait_until_available(60)
        client = ServingClient(rest_port=handle.rest_port, grpc_port=handle.grpc_port)
        assert client.predict("m", instances=[2.0]) == {"predictions": [2.0]}
        shutil.copytree(os.path.join(versions_root, "source", "2"), os.path.join(base, "2"))
        wait_until(lambda: states(handle, "m") == {2: "AVAILABLE", 1: "END"})
        assert client.predict("m", instances=[2.0]) == {"predictions": [3.0]}
        with pytest.raises(NotFound, match=r"Specific\(m, 1\)"):
            client.predict("m", instances=[2.0], version=1)
        status = client.status("m")["model_version_status"]
        assert [(s["version"], s["state"]) for s in status] == [("2", "AVAILABLE"), ("1", "END")]


def test_config_file_policies_and_labels(versions_root, tmp_path):
    latest = copy_versions(versions_root, tmp_path, "latest", [1, 2, 3])
    every = copy_versions(versions_root, tmp_path, "every", [1, 2, 3])
    specific = copy_versions(versions_root, tmp_path, "specific", [1, 2, 3])
    config = tmp_path / "models.config"
    config.write_text(f"""
        model_config_list {{
          config {{ name: "latest" base_path: "{latest}" model_platform: "tensorflow"
                   model_version_policy {{ latest {{ num_versions: 2 }} }}
                   version_labels {{ key: "stable" value: 2 }}
                   version_labels {{ key: "canary" value: 3 }} }}
          config {{ name: "every" base_path: "{every}" model_platform: "tensorflow"
                   model_version_policy {{ all {{}} }} }}
          config {{ name: "specific" base_path: "{specific}" model_platform: "tensorflow"
                   model_version_policy {{ specific {{ versions: 1 versions: 3 }} }} }}
        }}""")
    with server.start_from_config(str(config), rest_port=0, grpc_port=0,
                                  poll_seconds=0.1) as handle:
        handle.wait_until_available(60)
        wait_until(lambda: states(handle, "latest") == {3: "AVAILABLE", 2: "AVAILABLE"}
                   and len(states(handle, "every")) == 3
                   and states(handle, "specific") == {3: "AVAILABLE", 1: "AVAILABLE"})
        wait_until(lambda: set(states(handle, "every").values()) == {"AVAILABLE"})
        for protocol in ("rest", "grpc"):
            client = ServingClient(rest_port=handle.rest_port, grpc_port=handle.grpc_port,
                                   protocol=protocol)
            assert client.predict("latest", instances=[0.0]) == {"predictions": [3.0]}
            assert client.predict("latest", instances=[0.0], version_label="stable") == {
                "predictions": [2.0]}
            assert client.predict("latest", instances=[0.0], version_label="canary") == {
                "predictions": [3.0]}
            assert client.predict("every", instances=[0.0], version=1) == {"predictions": [1.0]}
            with pytest.raises(NotFound):
                client.predict("specific", instances=[0.0], version=2)
        raw = RawHttp(handle.rest_port)
        assert parsed(raw.post("/v1/models/latest/labels/stable:predict",
                               b'{"instances": [0]}')) == reply(200, {"predictions": [2.0]})


def test_deleting_a_version_directory_unloads_it(versions_root, tmp_path):
    base = copy_versions(versions_root, tmp_path, "m", [1, 2])
    config = [model_config("m", base, "all")]
    with server.start_from_config(config, rest_port=0, grpc_port=0, poll_seconds=0.1) as handle:
        wait_until(lambda: states(handle, "m") == {2: "AVAILABLE", 1: "AVAILABLE"})
        shutil.rmtree(os.path.join(base, "2"))
        wait_until(lambda: states(handle, "m") == {2: "END", 1: "AVAILABLE"})
        assert handle.manager.available_versions("m") == [1]
        shutil.rmtree(os.path.join(base, "1"))
        wait_until(lambda: states(handle, "m") == {2: "END", 1: "END"})
        with pytest.raises(NotFound):
            with handle.manager.acquire("m"):
                pass


def model_config(name, base, kind):
    from tfx_kfp.serving.models.config import ModelConfig, VersionPolicy

    return ModelConfig(name, base, VersionPolicy(kind=kind))


def test_failed_version_keeps_serving_versions_and_reports_error(versions_root, tmp_path):
    base = copy_versions(versions_root, tmp_path, "m", [1])
    with start("m", base) as handle:
        handle.wait_until_available(60)
        serving_models.write_corrupt_version(base, 2)
        wait_until(lambda: states(handle, "m").get(2) == "END")
        assert states(handle, "m") == {2: "END", 1: "AVAILABLE"}
        raw = RawHttp(handle.rest_port)
        path = os.path.join(base, "2", "saved_model.pb")
        assert parsed(raw.get("/v1/models/m")) == reply(200, {"model_version_status": [
            {"version": "2", "state": "END", "status": {
                "error_code": "DATA_LOSS", "error_message": f"Can't parse {path} as binary proto"}},
            {"version": "1", "state": "AVAILABLE",
             "status": {"error_code": "OK", "error_message": ""}}]})
        assert raw.post("/v1/models/m:predict", b'{"instances": [0]}')[0] == 200
        os.makedirs(os.path.join(base, "3"))  # no saved_model.pb at all
        wait_until(lambda: states(handle, "m").get(3) == "END")
        error = handle.manager.version_statuses("m", 3)[0].error
        assert (error.grpc_code, error.message) == ("NOT_FOUND", (
            "Could not find SavedModel .pb or .pbtxt at supplied export directory path: "
            f"{os.path.join(base, '3')}. Check that the directory exists and that you have the "
            "right permissions for accessing it."))
        assert handle.manager.available_versions("m") == [1]


def test_wait_until_available_reports_load_errors(tmp_path):
    base = str(tmp_path / "broken")
    serving_models.write_corrupt_version(base, 1)
    with start("broken", base) as handle:
        with pytest.raises(Unavailable, match=r"broken \(version 1: DATA_LOSS: Can't parse"):
            handle.wait_until_available(5)


def test_empty_base_path_waits_with_a_clear_message(tmp_path):
    with start("nothing", str(tmp_path / "missing")) as handle:
        with pytest.raises(Unavailable, match="no version directory found under"):
            handle.wait_until_available(0.5)


def test_warmup_failure_fails_the_load(versions_root, tmp_path):
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    base = copy_versions(versions_root, tmp_path, "m", [1])
    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = "nope"
    bad_log = prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request))

    def build(directory):
        shutil.copytree(os.path.join(versions_root, "source", "2"), directory, dirs_exist_ok=True)
        serving_models.write_warmup_file(directory, [bad_log])

    with start("m", base) as handle:
        handle.wait_until_available(60)
        serving_models.push_atomically(build, base, 2)
        wait_until(lambda: states(handle, "m").get(2) == "END")
        error = handle.manager.version_statuses("m", 2)[0].error
        assert (error.grpc_code, error.message) == ("FAILED_PRECONDITION",
                                                    'Serving signature key "nope" not found.')
        assert handle.manager.available_versions("m") == [1]


def test_warmup_runs_and_push_bookkeeping_is_ignored(half_plus_two_base):
    from tfx_kfp.serving.models.servable import SessionOptions, load_version
    from tfx_kfp.serving.models.warmup import run_warmup

    path = os.path.join(half_plus_two_base, "123")
    assert json.load(open(os.path.join(path, "assets.extra", "tfx_kfp_push.json")))
    version = load_version("m", 123, path, SessionOptions())
    try:
        assert run_warmup(version) == 3
    finally:
        version.close()


def test_requests_in_flight_keep_their_version(versions_root, tmp_path):
    import numpy as np

    base = copy_versions(versions_root, tmp_path, "m", [1])
    with start("m", base) as handle:
        handle.wait_until_available(60)
        held = handle.manager.lookup("m")  # a request that started on version 1
        shutil.copytree(os.path.join(versions_root, "source", "2"), os.path.join(base, "2"))
        wait_until(lambda: states(handle, "m") == {2: "AVAILABLE", 1: "UNLOADING"})
        # New requests go to version 2; the held one still runs on version 1.
        with handle.manager.acquire("m") as fresh:
            assert fresh.version == 2
        outputs = held.run([("x:0", np.array([0.0], np.float32))], ["y:0"])
        assert outputs[0].tolist() == [1.0]
        held.release()
        wait_until(lambda: states(handle, "m") == {2: "AVAILABLE", 1: "END"})


def test_tf2_saved_model_serves(tmp_path):
    base = str(tmp_path / "tf2")
    serving_models.write_half_plus_two_tf2(base, 1)
    with start("tf2", base) as handle:
        handle.wait_until_available(60)
        for protocol in ("rest", "grpc"):
            client = ServingClient(rest_port=handle.rest_port, grpc_port=handle.grpc_port,
                                   protocol=protocol)
            assert client.predict("tf2", instances=[1.0, 3.0]) == {"predictions": [2.5, 3.5]}
            signatures = client.metadata("tf2")["metadata"]["signature_def"]["signature_def"]
            assert set(signatures) == {"serving_default", "__saved_model_init_op"}


def test_stop_unloads_everything(versions_root, tmp_path):
    base = copy_versions(versions_root, tmp_path, "m", [1])
    handle = start("m", base)
    handle.wait_until_available(60)
    rest_port = handle.rest_port
    handle.stop()
    handle.stop()  # idempotent
    assert handle.manager.available_versions("m") == []
    with pytest.raises(Unavailable):
        ServingClient(rest_port=rest_port, retries=0).status("m")


def test_a_load_that_hangs_fails_within_the_limit_and_the_old_version_serves(versions_root,
                                                                             tmp_path):
    # Issue 24: a version whose init op blocks stayed LOADING forever. Now it fails after the
    # load time limit, with a clear status; version 1 keeps answering throughout.
    base = copy_versions(versions_root, tmp_path, "m", [1])
    with start("m", base, load_timeout_seconds=3) as handle:
        handle.wait_until_available(60)
        serving_models.write_blocking_load(base, 2)
        client = ServingClient(rest_port=handle.rest_port, grpc_port=handle.grpc_port)
        wait_until(lambda: states(handle, "m").get(2) == "LOADING")
        started = time.monotonic()
        while states(handle, "m").get(2) == "LOADING":
            assert client.predict("m", instances=[2.0]) == {"predictions": [2.0]}
            assert time.monotonic() - started < 30
            time.sleep(0.1)
        assert states(handle, "m") == {2: "END", 1: "AVAILABLE"}
        error = handle.manager.version_statuses("m", 2)[0].error
        assert (error.grpc_code, error.message) == (
            "DEADLINE_EXCEEDED", "m version 2 did not load within 3 s (the load time limit, "
                                 "--model_load_timeout_seconds); the load was abandoned")
        status = client.status("m")["model_version_status"][0]
        assert status["status"]["error_code"] == "DEADLINE_EXCEEDED"
        assert client.predict("m", instances=[2.0]) == {"predictions": [2.0]}
