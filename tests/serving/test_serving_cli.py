"""``tfx-kfp predict`` and ``tfx-kfp serve``."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests._support.serving import MODEL_NAME
from tfx_kfp import cli


def run_cli(args, capsys):
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("protocol", ["--rest", "--grpc"])
def test_predict_prints_the_response(hpt_server, capsys, protocol):
    code, out, err = run_cli(["predict", "--model", MODEL_NAME, protocol,
                              "--rest_port", str(hpt_server.rest_port),
                              "--grpc_port", str(hpt_server.grpc_port),
                              "--instances", "[1.0, 2.0]"], capsys)
    assert code == 0, err
    assert json.loads(out) == {"predictions": [2.5, 3.0]}
    name = protocol.strip("-").upper()
    assert re.fullmatch(rf"predict: {MODEL_NAME} over {name} at 127\.0\.0\.1:\d+: 2 predictions "
                        r"in [0-9.]+ ms\n", err)


def test_predict_columnar_from_file(hpt_server, capsys, tmp_path):
    payload = tmp_path / "inputs.json"
    payload.write_text('{"x": [1.0], "label": ["a"]}')
    code, out, err = run_cli(["predict", "--model", MODEL_NAME, "--signature_name", "multi_io",
                              "--rest_port", str(hpt_server.rest_port),
                              "--inputs", f"@{payload}"], capsys)
    assert code == 0, err
    assert json.loads(out) == {"outputs": {"label_bytes": [{"b64": "YQ=="}], "x_int": [1],
                                           "y": [2.5]}}


def test_predict_errors_are_one_line(hpt_server, capsys):
    code, out, err = run_cli(["predict", "--model", "nope", "--grpc",
                              "--grpc_port", str(hpt_server.grpc_port),
                              "--instances", "[1.0]"], capsys)
    assert (code, out) == (1, "")
    assert err.startswith("predict: nope over GRPC at 127.0.0.1:")
    assert err.endswith("failed: NOT_FOUND (HTTP 404): Servable not found for request: "
                        "Latest(nope)\n")
    code, _, err = run_cli(["predict", "--model", MODEL_NAME, "--instances", "[1.0"], capsys)
    assert code == 2 and "--instances is not valid JSON" in err


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_command_end_to_end(half_plus_two_base):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # --rest_api_port=0 turns REST off, as in TF Serving, so pick free ports up front.
    process = subprocess.Popen(
        [sys.executable, "-m", "tfx_kfp.cli", "serve", "--model_name", "hpt",
         "--model_base_path", half_plus_two_base, "--port", "0",
         f"--rest_api_port={_free_port()}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        rest_port = grpc_port = None
        available = False
        deadline = time.monotonic() + 180
        lines = []
        while time.monotonic() < deadline and not (rest_port and available):
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"listening: REST http://127\.0\.0\.1:(\d+)/.*gRPC 127\.0\.0\.1:(\d+)",
                              line)
            if match:
                rest_port, grpc_port = int(match.group(1)), int(match.group(2))
            available = available or "version 123 is AVAILABLE" in line
        assert rest_port and available, "".join(lines)
        from tfx_kfp.serving import ServingClient

        for protocol in ("rest", "grpc"):
            client = ServingClient(rest_port=rest_port, grpc_port=grpc_port, protocol=protocol)
            assert client.predict("hpt", instances=[1.0]) == {"predictions": [2.5]}
            client.close()
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        assert re.search(r"serve: stopped after \d+s; was serving hpt \[123\]\n$", out), out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_serve_applies_a_config_edit_made_while_it_starts_and_stops_promptly(
        half_plus_two_base, tmp_path):
    # Issue 24: an edit made during startup was never applied (the file poller took the
    # edited file as its starting point), and SIGTERM did not end `serve` within 30 s
    # while a HandleReloadConfigRequest waited for a model.
    import threading

    import grpc
    from tensorflow_serving.apis import model_management_pb2, model_service_pb2_grpc
    from google.protobuf import text_format

    from tfx_kfp.serving import ServingClient

    def config(*names):
        return "model_config_list { " + " ".join(
            f'config {{ name: "{name}" base_path: "{path}" model_platform: "tensorflow" }}'
            for name, path in names) + " }"

    config_file = tmp_path / "models.config"
    config_file.write_text(config(("a", half_plus_two_base)))
    process = subprocess.Popen(
        [sys.executable, "-m", "tfx_kfp.cli", "serve", f"--model_config_file={config_file}",
         "--model_config_file_poll_wait_seconds=1", "--port=0",
         f"--rest_api_port={_free_port()}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")))
    reader.start()
    try:
        deadline = time.monotonic() + 180
        while not any("loading TensorFlow" in line for line in lines):
            assert time.monotonic() < deadline and process.poll() is None, "".join(lines)
            time.sleep(0.05)
        config_file.write_text(config(("a", half_plus_two_base), ("b", half_plus_two_base)))
        ports = None
        while ports is None:
            assert time.monotonic() < deadline and process.poll() is None, "".join(lines)
            found = [re.search(r"REST http://127\.0\.0\.1:(\d+)/.*gRPC 127\.0\.0\.1:(\d+)", line)
                     for line in list(lines)]
            ports = next((tuple(map(int, m.groups())) for m in found if m), None)
            time.sleep(0.05)
        with ServingClient(rest_port=ports[0], grpc_port=ports[1]) as client:
            while True:
                try:
                    if client.status("b")["model_version_status"][0]["state"] == "AVAILABLE":
                        break
                except Exception:  # noqa: BLE001 - not there yet
                    pass
                assert time.monotonic() < deadline, "".join(lines)
                time.sleep(0.2)
        (tmp_path / "empty").mkdir()
        request = model_management_pb2.ReloadConfigRequest()
        text_format.Parse(config(("a", half_plus_two_base), ("c", tmp_path / "empty")),
                          request.config)
        outcome = []

        def reload():
            with grpc.insecure_channel(f"127.0.0.1:{ports[1]}") as channel:
                try:
                    model_service_pb2_grpc.ModelServiceStub(channel).HandleReloadConfigRequest(
                        request, timeout=120)
                    outcome.append("OK")
                except grpc.RpcError as error:
                    outcome.append(error.code())

        waiting = threading.Thread(target=reload)
        waiting.start()
        time.sleep(1.5)  # the reload now waits for "c", which has no version
        assert outcome == []
        stopped = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        assert time.monotonic() - stopped < 5, "".join(lines)
        assert process.returncode == 0, "".join(lines)
        waiting.join(10)
        assert outcome and outcome[0] != "OK"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        reader.join(10)
