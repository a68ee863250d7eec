"""Version numbers, base paths, first loads and the command line, checked against TF Serving 2.16.1.

Sources: ``model_servers/main.cc``, ``sources/storage_path/file_system_storage_path_source.cc``.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests._support import serving_models
from tests.serving.test_serving_config import TESTDATA
from tfx_kfp.serving import server
from tfx_kfp.serving.versions import parse_version


@pytest.mark.parametrize("name, number", [
    ("1", 1), ("00012", 12), (" 7\n", 7), ("-3", -3),
    ("9223372036854775807", 2 ** 63 - 1),  # 19 digits: TF Serving serves it (issue 14 item 7)
    ("9223372036854775808", None), ("+1", None), ("1.0", None), ("v1", None), ("1_000", None),
    ("", None), ("1 2", None), ("\u0661", None),
])
def test_version_numbers_follow_safe_strto64(name, number):
    assert parse_version(name) == number


def test_nineteen_digit_versions_are_served(tmp_path):
    base = tmp_path / "hpt"
    shutil.copytree(os.path.join(TESTDATA, "00000123"), base / "9223372036854775807")
    shutil.copytree(os.path.join(TESTDATA, "00000123"), base / "not_a_version")
    with server.start("hpt", str(base), rest_port=None, grpc_port=None) as handle:
        handle.wait_until_available(120)
        assert handle.manager.available_versions("hpt") == [2 ** 63 - 1]


def test_uri_base_paths_go_through_tensorflow_file_systems(tmp_path):
    # gs:// is read through tf.io.gfile like TF Serving's Env; TensorFlow's in-memory
    # ram:// file system stands in for a bucket (no network in tests).
    import tensorflow as tf

    for root, _, files in os.walk(TESTDATA):
        target = "ram://models/hpt/" + os.path.relpath(root, TESTDATA).replace(os.sep, "/")
        tf.io.gfile.makedirs(target)
        for name in files:
            tf.io.gfile.copy(os.path.join(root, name), f"{target}/{name}", overwrite=True)
    with server.start("hpt", "ram://models/hpt", rest_port=None, grpc_port=None,
                      enable_warmup=False) as handle:
        handle.wait_until_available(120)
        assert handle.manager.available_versions("hpt") == [123]


def test_s3_without_a_file_system_is_refused_clearly():
    """In a fresh interpreter: once anything in a process imports tensorflow-io, s3:// exists there."""
    code = ("from tfx_kfp.serving import server\n"
            "server.start('m', 's3://bucket/m', rest_port=None, grpc_port=None)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "InvalidArgument" in result.stderr
    assert re.search(r"s3://bucket/m: TensorFlow has no file system for the s3:// scheme\. .*tensorflow-io",
                     result.stderr), result.stderr[-2000:]


def test_wait_for_models_raises_on_a_failed_first_load(tmp_path):
    from tfx_kfp.serving import Unavailable

    base = tmp_path / "broken"
    serving_models.write_corrupt_version(str(base), 1)
    with pytest.raises(Unavailable, match="broken .*version 1"):
        server.start("broken", str(base), rest_port=0, grpc_port=0, wait_for_models=60,
                     max_num_load_retries=0)


MAIN_CC_FLAGS = re.findall(r'tensorflow::Flag\(\s*"([a-z_0-9]+)"', open(
    os.path.join(os.path.dirname(__file__), "testdata", "main_cc_flags.txt")).read())


def test_every_tensorflow_model_server_flag_is_accepted():
    from tfx_kfp.cli import build_parser
    from tfx_kfp.serving.flags import FLAGS, warnings_for

    assert len(MAIN_CC_FLAGS) == 46 and {f[0] for f in FLAGS} == set(MAIN_CC_FLAGS)
    values = {int: "1", str: "x", bool: "true", float: "0.5"}
    argv = ["serve"] + [f"--{name}={values[kind]}" for name, kind, _, _ in FLAGS] + [
        "--not_a_tf_serving_flag=1"]
    args = build_parser().parse_args(argv)
    assert args.port == 1 and args.enable_batching is True
    warnings = warnings_for(args)
    assert warnings[0] == ("unknown argument: --not_a_tf_serving_flag=1 (ignored, as "
                           "tensorflow_model_server does)")
    assert any(w.startswith("--use_alts_credentials is accepted but has no effect here")
               for w in warnings)


def test_the_kubernetes_command_line_serves_and_a_failed_first_load_exits(tmp_path):
    # The TF Serving container's command line (docker.md / the Kubernetes example), unchanged
    # apart from the ports, then a model whose only version is corrupt: TF Serving exits.
    base = tmp_path / "broken"
    serving_models.write_corrupt_version(str(base), 1)
    result = subprocess.run(
        [sys.executable, "-m", "tfx_kfp.cli", "serve", "--port=0", "--rest_api_port=0",
         "--model_name=broken", f"--model_base_path={base}", "--max_num_load_retries=0",
         "--enable_batching=false", "--monitoring_config_file="],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "the first load failed, exiting" in result.stderr
    assert "listening" not in result.stderr


def test_server_arguments_read_batching_and_monitoring_files(tmp_path):
    from tfx_kfp.cli import build_parser
    from tfx_kfp.serving.models.batching import BatchingOptions
    from tfx_kfp.serving.flags import server_arguments

    batching = tmp_path / "batching.txt"
    batching.write_text("max_batch_size { value: 16 }\nnum_batch_threads { value: 2 }\n")
    monitoring = tmp_path / "monitoring.txt"
    # The file of TF Serving's monitoring guide (serving_config.md), as is.
    monitoring.write_text('prometheus_config {\n  enable: true,\n'
                          '  path: "/monitoring/prometheus/metrics"\n}\n')
    args = build_parser().parse_args([
        "serve", "--model_name=m", f"--model_base_path={tmp_path}", "--enable_batching",
        f"--batching_parameters_file={batching}", f"--monitoring_config_file={monitoring}",
        "--rest_api_port=0", "--grpc_socket_path=/tmp/s.sock"])
    configs, rest_port, grpc_port, host, options = server_arguments(args)
    assert [(c.name, c.base_path) for c in configs] == [("m", str(tmp_path))]
    assert (rest_port, grpc_port, host) == (None, 8500, "127.0.0.1")  # 0 turns REST off
    assert options["batching"] == BatchingOptions(max_batch_size=16, num_batch_threads=2)
    assert options["metrics_path"] == "/monitoring/prometheus/metrics"
    assert options["grpc_socket_path"] == "/tmp/s.sock"
