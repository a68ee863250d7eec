"""resolve_inputs fingerprints the files' content, so ExampleGen's cache key changes with any edit (issue 24)."""

import os
import shutil
import time

from tests._support import chain


def test_a_same_size_edit_with_the_time_kept_changes_the_fingerprint_example_gen_is_keyed_by(tmp_path):
    shutil.copy(os.path.join(chain.PENGUIN_DATA, "penguins_processed.csv"), tmp_path / "data.csv")
    path = tmp_path / "data.csv"
    before, span = _resolve(data_root=str(tmp_path), input_format="csv", input_pattern="", span_range=[])
    info = os.stat(path)
    text = path.read_bytes()
    last = text.rstrip(b"\n").rsplit(b"\n", 1)[1]
    label = last[-1:]
    edited = last[:-1] + (b"1" if label != b"1" else b"2")  # the last row's label, one digit for another
    time.sleep(0.01)
    path.write_bytes(text.replace(last, edited))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert (os.stat(path).st_size, os.stat(path).st_mtime_ns) == (info.st_size, info.st_mtime_ns)
    after, _ = _resolve(data_root=str(tmp_path), input_format="csv", input_pattern="", span_range=[])
    assert span == 0
    assert before != after
    assert before.splitlines()[0] == after.splitlines()[0]  # TFX's part (paths, sizes, times) alone misses it


def test_a_span_pattern_fingerprints_the_content_of_the_selected_span_only(tmp_path):
    for span in (1, 2):
        (tmp_path / f"span-{span}").mkdir()
        shutil.copy(os.path.join(chain.PENGUIN_DATA, "penguins_processed.csv"), tmp_path / f"span-{span}" / "data.csv")
    first, span = _resolve(data_root=str(tmp_path), input_format="csv", input_pattern="span-{SPAN}/*.csv",
                               span_range=[])
    assert span == 2 and "num_files:1" in first.splitlines()[-1]
    with open(tmp_path / "span-1" / "data.csv", "a") as f:  # an older span: not read, not fingerprinted
        f.write("")
    os.utime(tmp_path / "span-1" / "data.csv")
    again, _ = _resolve(data_root=str(tmp_path), input_format="csv", input_pattern="span-{SPAN}/*.csv",
                            span_range=[])
    assert again == first


def _resolve(**arguments):
    """The resolve_inputs executor, imported here: it imports TFX, which collecting the unit tier must not."""
    from tfx_kfp.components.resolve_inputs import executor

    return executor.run(**arguments)
