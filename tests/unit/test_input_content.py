"""The input fingerprint covers the data's content (issue 24, item 4): a same-size edit with the time kept misses."""

import os
import time

from tfx_kfp.components.resolve_inputs import content


def _same_size_edit_keeping_mtime(path, old: bytes, new: bytes):
    info = os.stat(path)
    with open(path, "rb") as f:
        data = f.read()
    assert len(old) == len(new) and old in data
    with open(path, "wb") as f:
        f.write(data.replace(old, new, 1))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (info.st_size, info.st_mtime_ns)


def test_a_same_size_edit_with_the_modification_time_kept_changes_the_fingerprint(tmp_path):
    data = tmp_path / "data.csv"
    data.write_bytes(b"a,b\n1,2\n3,4\n")
    before = content.with_content("split:single_split,num_files:1", [str(data)])
    time.sleep(0.01)  # ctime has nanosecond resolution, but be sure the edit is a later tick
    _same_size_edit_keeping_mtime(data, b"3,4", b"5,6")
    after = content.with_content("split:single_split,num_files:1", [str(data)])
    assert before != after
    assert content.tfx_part(before) == content.tfx_part(after) == "split:single_split,num_files:1"


def test_an_unchanged_file_is_hashed_once_and_its_hash_reused(tmp_path, monkeypatch):
    data = tmp_path / "data.csv"
    data.write_bytes(b"x" * 1000)
    first = content.file_hash(str(data))

    def no_second_read(*args, **kwargs):
        raise AssertionError("the file was read again")

    monkeypatch.setattr(content, "open", no_second_read, raising=False)
    assert content.file_hash(str(data)) == first


def test_the_fingerprint_names_each_file_so_a_rename_or_an_added_file_changes_it(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"same")
    (tmp_path / "b.csv").write_bytes(b"same")
    one = content.content_line([str(tmp_path / "a.csv")])
    both = content.content_line([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    other = content.content_line([str(tmp_path / "b.csv")])
    assert len({one, both, other}) == 3
    assert content.content_line([str(tmp_path / "b.csv"), str(tmp_path / "a.csv")]) == both


def test_a_fingerprint_without_a_content_line_is_its_own_tfx_part():
    assert content.tfx_part("split:x,num_files:1\nsplit:y,num_files:2") == "split:x,num_files:1\nsplit:y,num_files:2"
