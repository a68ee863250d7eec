"""Published outputs are writable by their owner only, even under Argo's umask 0 (issue 19 item 6).

Argo's emissary executor sets the umask to 0 in every task's main container (argo-workflows v4.0.5
``workflow/executor/osspecific/umask_linux.go`` line 8), and the KFP launcher's downloaded inputs arrive
as 0666. Here the same happens: umask 0 and world-writable inputs, then a push and a staged output.
"""

import contextlib
import json
import os
import stat

from tfx_kfp.components.pusher import executor as push
from tfx_kfp.runtime import staging


@contextlib.contextmanager
def umask(value):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def writable_by_others(root):
    found = []
    for path in [root, *(os.path.join(f, n) for f, dirs, files in os.walk(root) for n in dirs + files)]:
        mode = os.lstat(path).st_mode
        if not stat.S_ISLNK(mode) and mode & (stat.S_IWGRP | stat.S_IWOTH):
            found.append(f"{os.path.relpath(path, root)} {stat.filemode(mode)}")
    return found


def downloaded_saved_model(folder):
    """A SavedModel's files as the launcher leaves them under umask 0: 0666 files, 0777 folders."""
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"graph")
    (folder / "variables" / "variables.index").write_bytes(b"index")
    (folder / "variables" / "variables.data-00000-of-00001").write_bytes(b"data")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    return folder


def test_a_push_under_umask_0_publishes_nothing_group_or_world_writable(tmp_path):
    with umask(0):
        model = downloaded_saved_model(tmp_path / "model")
        warmup = tmp_path / "warmup"
        warmup.write_bytes(b"requests")
        warmup.chmod(0o666)
        base = tmp_path / "store" / "models" / "penguin"  # created by the push
        version, target, created = push.push_saved_model(
            str(model), str(base), extra_files={"assets.extra/tf_serving_warmup_requests": str(warmup)})
        push.write_last_push(str(base), "pushed", version, "run-1", "blessed")
    assert created and os.path.isfile(os.path.join(target, "assets.extra", "tf_serving_warmup_requests"))
    assert writable_by_others(str(tmp_path / "store")) == []
    assert stat.S_IMODE(os.stat(os.path.join(target, "saved_model.pb")).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(os.path.join(target, "assets.extra")).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(base).st_mode) == 0o755
    record = json.loads((base / push.LAST_PUSH_RECORD).read_text())
    assert (record["outcome"], record["version"], record["run"]) == ("pushed", version, "run-1")


def test_every_stage_output_staged_under_umask_0_is_owner_writable_only(tmp_path):
    """The other stages write their outputs through runtime/staging.py: staged_dir and write_file."""
    output = tmp_path / "outputs" / "examples"
    with umask(0):
        with staging.staged_dir(str(output)) as folder:
            os.makedirs(os.path.join(folder, "Split-train"))
            with open(os.path.join(folder, "Split-train", "data.gz"), "wb") as f:
                f.write(b"x")
            script = os.path.join(folder, "run.sh")
            with open(script, "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(script, 0o777)
        staging.write_file(str(tmp_path / "outputs" / "report.html"), "<p>ok</p>")
    assert writable_by_others(str(tmp_path / "outputs")) == []
    assert stat.S_IMODE(os.stat(output / "run.sh").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(output / "Split-train" / "data.gz").st_mode) == 0o644
