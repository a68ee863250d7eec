"""Model config validation at startup and on reload, checked against TF Serving 2.16.1.

Sources: ``model_servers/server_core.cc`` (and ``server_core_test.cc``),
``model_service_impl.cc``. Version numbers, base paths and flags: ``test_serving_startup``.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time

import grpc
import pytest
from google.protobuf import text_format

from tests._support import serving_models
from tfx_kfp.serving import FailedPrecondition, InvalidArgument, server

TESTDATA = os.path.join(os.path.dirname(__file__), "testdata", "saved_model_half_plus_two_cpu")
TESTDATA_ROOT = os.path.dirname(TESTDATA)


def _serve_cli(*flags, timeout=300):
    return subprocess.run([sys.executable, "-m", "tfx_kfp.cli", "serve", "--port=0",
                           "--rest_api_port=0", *flags], capture_output=True, text=True,
                          timeout=timeout)


def _config(text: str):
    from tensorflow_serving.config import model_server_config_pb2

    return text_format.Parse(text, model_server_config_pb2.ModelServerConfig())


def _entry(name, base="/m", platform='model_platform: "tensorflow"', extra=""):
    return f'config {{ name: "{name}" base_path: "{base}" {platform} {extra} }}'


def _list(*entries):
    return "model_config_list { " + " ".join(entries) + " }"


INVALID, PRECONDITION = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION
# (case, config text with {base} for the test models' folder, code, TF Serving's message);
# "a" is the served model. server_core.cc at 2.16.1, function by function.
RULES = [
    ("relative base_path", _list(_entry("a", "models/a")),  # ValidateModelConfigList
     INVALID, "Expected model a to have an absolute path or URI; got base_path()=models/a"),
    ("model listed twice", _list(_entry("a", "{base}/a"), _entry("a", "{base}/b")),
     INVALID, "Illegal to list model a multiple times in config list"),
    ("platform change", _list(_entry("a", "{base}/a", 'model_platform: "onnx"')),
     INVALID, "Illegal to change a model's platform. For model a platform was tensorflow and "  # ValidateNoModelsChangePlatforms
              "new platform requested is onnx"),
    ("no platform", _list(_entry("a", "{base}/a"), _entry("b", "{base}/b", "")),  # GetPlatform
     INVALID, "Illegal setting neither ModelServerConfig::model_type (deprecated) nor "
              "ModelServerConfig::model_platform, model name is b"),
    ("type and platform", _list(_entry("b", "{base}/b", 'model_type: TENSORFLOW '
                                       'model_platform: "tensorflow"')),
     INVALID, "Illegal setting both ModelServerConfig::model_type (deprecated) and "
              "ModelServerConfig::model_platform, model name is b"),
    ("model_type OTHER", _list(_entry("b", "{base}/b", "model_type: OTHER")),
     INVALID, "ModelServerConfig::model_type choice 2 not supported."),
    ("unsupported platform", _list(_entry("b", "{base}/b", 'model_platform: "onnx"')),
     INVALID, "Model b requests unsupported platform onnx"),  # CreateStoragePathRoutes
    ("label on a version not loaded", _list(_entry("a", "{base}/a", extra=(  # UpdateModelVersionLabelMap
        'model_platform: "tensorflow" version_labels { key: "stable" value: 7 }'), platform="")),
     PRECONDITION, "Request to assign label to version 7 of model a, which is not currently "
                   "available for inference"),
    ("label on a new model", _list(_entry("a", "{base}/a"), _entry("b", "{base}/b", extra=(
        'version_labels { key: "stable" value: 123 }'))),
     PRECONDITION, "Request to assign label to version 123 of model b, which is not currently "
                   "available for inference"),
    ("labels checked before platforms", _list(_entry("b", "{base}/b", "", extra=(
        'version_labels { key: "stable" value: 123 }'))),
     PRECONDITION, "Request to assign label to version 123 of model b, which is not currently "
                   "available for inference"),
]


@pytest.mark.parametrize("case, text, code, message", RULES, ids=[r[0] for r in RULES])
def test_reload_refusals_are_tf_servings_and_change_nothing(reloadable, case, text, code,
                                                            message):
    # model_service_impl.cc: the RPC fails with ReloadConfig's status (ToGRPCStatus).
    before = _served(reloadable)
    with _queried_throughout(reloadable) as failures:
        with pytest.raises(grpc.RpcError) as raised:
            _reload(reloadable, text.replace("{base}", str(reloadable.base)))
    assert (raised.value.code(), raised.value.details()) == (code, message)
    assert _served(reloadable) == before and failures == []


@pytest.mark.parametrize("request_text", ["", 'config { custom_model_config { } }'],
                         ids=["empty config", "custom config"])
def test_reload_takes_only_a_model_config_list(reloadable, request_text):
    from tensorflow_serving.apis import model_management_pb2

    request = text_format.Parse(request_text, model_management_pb2.ReloadConfigRequest())
    before = _served(reloadable)
    with pytest.raises(grpc.RpcError) as raised:
        _reload_request(reloadable, request)
    assert (raised.value.code(), raised.value.details()) == (
        INVALID, "ServerModelConfig type not supported by HandleReloadConfigRequest. Only "
                 "ModelConfigList is currently supported")
    assert _served(reloadable) == before


STARTUP_RULES = [rule for rule in RULES if rule[0] not in (
    "platform change", "label on a new model", "labels checked before platforms")] + [
    ("custom config", "custom_model_config { }", INVALID,
     "Missing custom_model_config_loader in ServerCore Options"),
]


@pytest.mark.parametrize("case, text, code, message", STARTUP_RULES,
                         ids=[r[0] for r in STARTUP_RULES])
def test_startup_refusals_are_tf_servings(tmp_path, case, text, code, message):
    # ServerCore::Create -> ReloadConfig on the first config: the same checks, labels too
    # (a label can name no loaded version yet); the library reports them like the CLI.
    config = tmp_path / "models.config"
    config.write_text(text.replace("{base}", TESTDATA_ROOT))
    error = {INVALID: InvalidArgument, PRECONDITION: FailedPrecondition}[code]
    with pytest.raises(error) as raised:
        handle = server.start_from_config(str(config), rest_port=None, grpc_port=None,
                                          wait_for_models=60)
        handle.stop()
    assert raised.value.message in (message, f"{config}: {message}")


def test_a_refused_startup_config_exits_the_cli_non_zero(tmp_path):
    # The label case: TF Serving exits where the server used to keep running.
    config = tmp_path / "models.config"
    config.write_text(_list(_entry("hpt", TESTDATA, extra='version_labels { key: "stable" '
                                                          'value: 123 }')))
    result = _serve_cli(f"--model_config_file={config}")
    assert result.returncode != 0, result.stderr
    assert ("Request to assign label to version 123 of model hpt, which is not currently "
            "available for inference") in result.stderr
    assert "listening" not in result.stderr


def test_labels_for_unavailable_models_are_allowed_with_the_flag(tmp_path):
    # --allow_version_labels_for_unavailable_models: a new label may name any version, an
    # existing label may not move to a version that is not available.
    config = tmp_path / "models.config"
    config.write_text(_list(_entry("hpt", TESTDATA, extra='version_labels { key: "stable" '
                                                          'value: 7 }')))
    with server.start_from_config(str(config), rest_port=None, grpc_port=0, wait_for_models=120,
                                  allow_unavailable_labels=True) as handle:
        with pytest.raises(grpc.RpcError) as raised:
            _reload(handle, _list(_entry("hpt", TESTDATA, extra='version_labels { key: '
                                                                '"stable" value: 8 }')))
        assert raised.value.code() == PRECONDITION
        _reload(handle, _list(_entry("hpt", TESTDATA, extra='version_labels { key: "stable" '
                                                            'value: 7 } version_labels { key: '
                                                            '"canary" value: 9 }')))
        from tfx_kfp.serving import NotFound

        with pytest.raises(NotFound, match=r"Specific\(hpt, 9\)"):
            handle.manager.lookup("hpt", label="canary")


@pytest.fixture(scope="module")
def reloadable(tmp_path_factory):
    base = tmp_path_factory.mktemp("reload")
    shutil.copytree(TESTDATA, base / "a")
    shutil.copytree(TESTDATA, base / "b")
    with server.start_from_config(str(_write_config(base / "start.config", _list(
            _entry("a", f"{base}/a")))), rest_port=0, grpc_port=0, wait_for_models=120,
            poll_seconds=0.5, max_num_load_retries=0) as handle:
        handle.base = base
        yield handle


def _write_config(path, text):
    path.write_text(text)
    return path


def _served(handle):
    manager = handle.manager
    return {name: (manager.available_versions(name), dict(manager._models[name].labels))
            for name in manager.model_names()}


@contextlib.contextmanager
def _queried_throughout(handle):
    """Predicts on model "a" over REST until the block ends; yields the failures seen."""
    from tfx_kfp.serving import ServingClient

    failures, stop = [], threading.Event()

    def query():
        with ServingClient(rest_port=handle.rest_port, retries=0) as client:
            while not stop.is_set():
                try:
                    assert client.predict("a", instances=[1.0]) == {"predictions": [2.5]}
                except Exception as error:  # noqa: BLE001 - every failure is recorded
                    failures.append(repr(error))

    thread = threading.Thread(target=query)
    thread.start()
    try:
        time.sleep(0.2)
        yield failures
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join(30)


def _reload(handle, text):
    from tensorflow_serving.apis import model_management_pb2

    return _reload_request(handle, model_management_pb2.ReloadConfigRequest(config=_config(text)))


def _reload_request(handle, request):
    from tensorflow_serving.apis import model_service_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{handle.grpc_port}") as channel:
        return model_service_pb2_grpc.ModelServiceStub(channel).HandleReloadConfigRequest(
            request, timeout=120).status


def test_reload_waits_until_new_models_are_available_then_labels_apply(reloadable):
    # server_core.cc ReloadConfig -> AddModelsViaModelConfigList -> WaitUntilModelsAvailable;
    # a label on the new model is accepted by the next reload, once its version is loaded.
    base = reloadable.base
    both = [_entry("a", f"{base}/a"), _entry("b", f"{base}/b")]
    with _queried_throughout(reloadable) as failures:
        status = _reload(reloadable, _list(*both))
        assert (status.error_code, status.error_message) == (0, "")
        assert reloadable.manager.available_versions("b") == [123]  # right when the call returns
        _reload(reloadable, _list(both[0], _entry("b", f"{base}/b", extra=(
            'version_labels { key: "stable" value: 123 }'))))
        assert _served(reloadable)["b"] == ([123], {"stable": 123})
        _reload(reloadable, _list(both[0]))  # back to "a" alone
        assert reloadable.manager.wait_for(lambda: "b" not in reloadable.manager._models, 30)
    assert failures == []


def test_a_new_model_that_fails_to_load_fails_the_reload_as_tf_serving(reloadable, tmp_path):
    base = reloadable.base
    serving_models.write_corrupt_version(str(tmp_path / "c"), 1)
    with pytest.raises(grpc.RpcError) as raised:
        _reload(reloadable, _list(_entry("a", f"{base}/a"), _entry("c", f"{tmp_path}/c")))
    assert raised.value.code() == grpc.StatusCode.UNKNOWN
    assert raised.value.details() == (
        "1 model(s) did not become available: {{name: c version: 1} due to error: DATA_LOSS: "
        f"Can't parse {tmp_path}/c/1/saved_model.pb as binary proto}}, }}")
    _reload(reloadable, _list(_entry("a", f"{base}/a")))
