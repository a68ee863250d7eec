"""Hot swap under load: three pushes and a corrupt version, zero failed requests."""

import os
import shutil
import threading
import time


from tests._support import serving_models
from tfx_kfp.serving import ServingClient, server

MAX_SECONDS = 120
MAX_REQUESTS_PER_WORKER = 20000


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_hot_swap_under_steady_traffic(tmp_path):
    source = str(tmp_path / "source")
    for version in (1, 2, 3, 4):  # version n computes y = 0.5x + n
        serving_models.write_half_plus_two(source, version, offset=float(version), warmup=True)
    base = str(tmp_path / "model")
    serving_models.push_atomically(lambda d: shutil.copytree(os.path.join(source, "1"), d, dirs_exist_ok=True), base, 1)

    with server.start("swap", base, rest_port=0, grpc_port=0, poll_seconds=0.1,
                      max_num_load_retries=0) as handle:
        handle.wait_until_available(60)
        stop = threading.Event()
        failures, versions_seen, counts = [], [], {"rest": 0, "grpc": 0}

        def worker(protocol):
            client = ServingClient(rest_port=handle.rest_port, grpc_port=handle.grpc_port,
                                   protocol=protocol, retries=0, timeout=30)
            last = 0
            try:
                for _ in range(MAX_REQUESTS_PER_WORKER):
                    if stop.is_set():
                        return
                    try:
                        result = client.predict("swap", instances=[0.0, 2.0])["predictions"]
                    except Exception as error:  # noqa: BLE001 - every failure is recorded
                        failures.append(f"{protocol}: {type(error).__name__}: {error}")
                        continue
                    version = result[0]
                    if result != [version, version + 1.0] or version not in (1, 2, 3, 4):
                        failures.append(f"{protocol}: inconsistent answer {result}")
                    if version < last:
                        failures.append(f"{protocol}: went back from v{last} to v{version}")
                    last = version
                    counts[protocol] += 1
                    versions_seen.append(version)
            finally:
                client.close()

        threads = [threading.Thread(target=worker, args=(p,)) for p in ("rest", "grpc", "rest")]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            for version in (2, 3, 4):
                time.sleep(0.5)
                serving_models.push_atomically(
                    lambda d, v=version: shutil.copytree(os.path.join(source, str(v)), d, dirs_exist_ok=True),
                    base, version)
                assert _wait(lambda v=version: handle.manager.available_versions("swap") == [v])
            serving_models.write_corrupt_version(base, 5)
            assert _wait(lambda: handle.manager.version_statuses("swap", 5)[0].state == "END"
                         if 5 in {s.version for s in handle.manager.version_statuses("swap")}
                         else False)
            time.sleep(1.0)
        finally:
            stop.set()
            for thread in threads:
                thread.join(MAX_SECONDS)
        elapsed = time.monotonic() - started

        assert failures == [], failures[:10]
        assert counts["rest"] > 50 and counts["grpc"] > 50, counts
        assert {1, 2, 3, 4} <= set(versions_seen)
        status = ServingClient(rest_port=handle.rest_port).status("swap")
        rows = {int(s["version"]): s for s in status["model_version_status"]}
        assert rows[5]["state"] == "END"
        assert rows[5]["status"]["error_code"] == "DATA_LOSS"
        assert "Can't parse" in rows[5]["status"]["error_message"]
        assert rows[4]["state"] == "AVAILABLE"
        assert [rows[v]["state"] for v in (1, 2, 3)] == ["END", "END", "END"]
        assert ServingClient(grpc_port=handle.grpc_port, protocol="grpc").predict(
            "swap", instances=[0.0]) == {"predictions": [4.0]}
        assert elapsed < MAX_SECONDS
