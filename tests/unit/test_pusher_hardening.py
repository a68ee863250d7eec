"""The Pusher under kills, races, damaged records and extreme version numbers (issue 14, items 4-7).

Kills are real SIGKILLs of real processes; races are real processes started together.
"""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest

from tfx_kfp.components.pusher import executor as push
from tfx_kfp.runtime import lease, staging
from tfx_kfp.runtime.errors import PushError
from tfx_kfp.serving.versions import INT64_MAX

TWO_HOURS_AGO = time.time() - 2 * 3600


def _saved_model(folder, content=b"graph", size=0):
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(content)
    if size:
        (folder / "variables.data").write_bytes(os.urandom(size))
    return str(folder)


def _hold_staging_then_wait(base_dir: str) -> subprocess.Popen:
    """A process that builds a leased staging folder in ``base_dir`` and stays in the middle of it."""
    code = ("import sys, time, os\n"
            "from tfx_kfp.runtime import staging\n"
            "with staging.staging_dir(os.path.join(sys.argv[1], 'push')) as folder:\n"
            "    open(os.path.join(folder, 'saved_model.pb'), 'wb').write(b'half')\n"
            "    print(folder, flush=True)\n"
            "    time.sleep(600)\n")
    process = subprocess.Popen([sys.executable, "-c", code, base_dir], stdout=subprocess.PIPE, text=True)
    return process


def _backdate(*paths):
    for path in paths:
        os.utime(path, (TWO_HOURS_AGO, TWO_HOURS_AGO))


def test_leftovers_of_killed_pushes_are_removed_and_a_live_push_is_left_alone(tmp_path):
    base = tmp_path / "serving"
    base.mkdir()
    killed, alive = _hold_staging_then_wait(str(base)), _hold_staging_then_wait(str(base))
    try:
        killed_folder, alive_folder = killed.stdout.readline().strip(), alive.stdout.readline().strip()
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        legacy = base / ".push-0123456789ab"  # what a killed push left before staging folders had leases
        legacy.mkdir()
        stage_leftover = base / ".model.partial-0123abcd"
        stage_leftover.mkdir()
        # Two hours later: the killed push's lease stopped beating; the live one still beats.
        _backdate(killed_folder, killed_folder + staging.LEASE_SUFFIX, legacy, stage_leftover, alive_folder)

        version, _, created = push.push_saved_model(_saved_model(tmp_path / "model"), str(base))

        assert created
        assert sorted(os.listdir(base)) == sorted([str(version), os.path.basename(alive_folder),
                                                   os.path.basename(alive_folder) + staging.LEASE_SUFFIX])
        assert os.path.exists(os.path.join(alive_folder, "saved_model.pb"))
    finally:
        alive.kill()
        alive.wait()


def test_a_push_killed_mid_copy_leaves_nothing_behind_after_the_next_push(tmp_path):
    base = tmp_path / "serving"
    base.mkdir()
    big = _saved_model(tmp_path / "big", size=128 << 20)  # copying it takes a while: time to kill it
    pusher = subprocess.Popen([sys.executable, "-c", "import sys\nfrom tfx_kfp.components.pusher import executor\n"
                               "executor.push_saved_model(sys.argv[1], sys.argv[2])", big, str(base)])
    try:
        deadline = time.monotonic() + 60
        while not any(os.path.isdir(base / n) and n.startswith(".") for n in os.listdir(base)):
            assert pusher.poll() is None and time.monotonic() < deadline, "the push ended before it was killed"
            time.sleep(0.001)
    finally:
        pusher.send_signal(signal.SIGKILL)
        pusher.wait()
    leftovers = [base / n for n in os.listdir(base)]
    assert any(n.name.startswith(".") for n in leftovers)
    _backdate(*leftovers)  # the next push comes long after the kill

    version, _, created = push.push_saved_model(_saved_model(tmp_path / "model"), str(base))

    assert created and os.listdir(base) == [str(version)]


def test_a_fresh_leftover_is_kept_until_it_is_older_than_the_bound(tmp_path):
    leftover = tmp_path / ".push.partial-0123abcd"
    leftover.mkdir()
    assert staging.remove_stale(str(tmp_path)) == []
    _backdate(leftover)
    assert staging.remove_stale(str(tmp_path)) == [str(leftover)]


def _push_after(barrier, model, base, results):
    barrier.wait()
    results.put(push.push_saved_model(model, base))


def test_racing_pushes_of_the_same_model_share_one_version(tmp_path):
    """A retry racing its first attempt: four processes push the same 32 MiB model at once."""
    model, base = _saved_model(tmp_path / "model", size=32 << 20), str(tmp_path / "serving")
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(4), context.Queue()
    processes = [context.Process(target=_push_after, args=(barrier, model, base, results)) for _ in range(4)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert len({version for version, _, _ in outcomes}) == 1
    assert sorted(created for _, _, created in outcomes) == [False, False, False, True]
    assert os.listdir(base) == [str(outcomes[0][0])]


def test_a_lock_left_by_a_killed_push_does_not_block_the_next_one(tmp_path):
    model, base = _saved_model(tmp_path / "model"), tmp_path / "serving"
    base.mkdir()
    lock = str(base / f".push-{push.model_fingerprint(model)[:16]}{staging.LEASE_SUFFIX}")
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom tfx_kfp.runtime import lease\n"
                               "lease.try_acquire(sys.argv[1]); print('held', flush=True); time.sleep(600)", lock],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert lease.read_owner(lock)["pid"] == holder.pid  # the lock survived the kill

    version, _, created = push.push_saved_model(model, str(base), wait_s=30)

    assert created and os.listdir(base) == [str(version)]


def test_a_push_of_the_same_model_held_elsewhere_is_waited_for_then_refused(tmp_path):
    model, base = _saved_model(tmp_path / "model"), tmp_path / "serving"
    base.mkdir()
    lock = base / f".push-{push.model_fingerprint(model)[:16]}{staging.LEASE_SUFFIX}"
    lock.write_text(json.dumps({"host": "another-pod", "boot_id": "x", "pid_namespace": "1", "pid": 7,
                                "token": "t"}))  # heartbeat fresh: its owner is alive on another host
    with pytest.raises(PushError) as error:
        push.push_saved_model(model, str(base), wait_s=0.5)
    assert str(lock) in str(error.value) and "another-pod" in str(error.value)
    assert [n for n in os.listdir(base) if not n.startswith(".push-")] == []


def test_a_foreign_lease_is_stale_only_after_its_heartbeat_stops(tmp_path):
    marker = tmp_path / "x.lease"
    marker.write_text(json.dumps({"host": "another-pod", "pid": 1}))
    assert not lease.is_stale(str(marker))
    _backdate(marker)
    assert lease.is_stale(str(marker))


def _version_with_record(base, version, record_text):
    folder = base / str(version) / os.path.dirname(push.PUSH_RECORD)
    folder.mkdir(parents=True)
    (base / str(version) / push.PUSH_RECORD).write_text(record_text)
    return str(base / str(version) / push.PUSH_RECORD)


def test_a_truncated_push_record_is_named_and_does_not_break_later_pushes(tmp_path, capsys):
    base = tmp_path / "serving"
    record = _version_with_record(base, 5, '{"fingerprint": "ab')

    version, _, created = push.push_saved_model(_saved_model(tmp_path / "model"), str(base))

    assert created and version > 5
    assert record in capsys.readouterr().out
    with pytest.raises(PushError, match=f"^{record}: unreadable push record"):
        push.read_push_record(os.path.dirname(os.path.dirname(record)))


def test_a_push_record_that_is_not_an_object_is_named(tmp_path):
    record = _version_with_record(tmp_path, 7, "[1, 2]")
    with pytest.raises(PushError, match=f"^{record}: a push record must be a JSON object, got list"):
        push.read_push_record(str(tmp_path / "7"))


def test_versions_are_what_tf_serving_reads(tmp_path):
    for name in ("0012", "9000000000000000000", "99999999999999999999", "+5", "1_000", "\u0663", "v3", "1.0"):
        (tmp_path / name).mkdir()
    assert push.existing_versions(str(tmp_path)) == {12: str(tmp_path / "0012"),
                                                      9000000000000000000: str(tmp_path / "9000000000000000000")}


def test_a_19_digit_version_is_followed_by_the_next_number(tmp_path):
    base = tmp_path / "serving"
    (base / "9000000000000000000").mkdir(parents=True)
    (base / "99999999999999999999").mkdir()  # 20 digits: not a version for TF Serving
    version, target, _ = push.push_saved_model(_saved_model(tmp_path / "model"), str(base))
    assert version == 9000000000000000001 and target == str(base / "9000000000000000001")


def test_no_version_can_follow_the_largest_int64(tmp_path):
    base = tmp_path / "serving"
    (base / str(INT64_MAX)).mkdir(parents=True)
    with pytest.raises(PushError, match="is the largest TF Serving accepts"):
        push.push_saved_model(_saved_model(tmp_path / "model"), str(base))
    assert os.listdir(base) == [str(INT64_MAX)]
