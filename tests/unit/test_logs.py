"""capture_task_output in a real child process: what lands in the log, what reaches the terminal.

The child's fds 1 and 2 are pipes read by this test, so "the terminal" is
exactly what a user would see. Nothing heavy is imported (absl is absl-py).
"""

import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import logging, os, sys, warnings
    from absl import logging as absl_logging
    from tfx_kfp.local.logs import capture_task_output

    log_path, user_dir, vendor_dir = sys.argv[1:4]
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")  # a handler on the real stderr
    sys.path[:0] = [user_dir, vendor_dir]
    import user_module, chatty  # chatty lives in a site-packages folder

    print("before the task")
    try:
        with capture_task_output(log_path, module_names={user_module.__file__: "/home/me/my_module.py"}):
            print("print to stdout")
            print("print to stderr", file=sys.stderr)
            os.write(1, b"fd 1 write\\n")
            os.write(2, b"fd 2 write\\n")
            logging.getLogger("some.library").info("logging record")
            absl_logging.warning("absl record")
            logging.getLogger("apache_beam.typehints.native_type_compatibility").info(
                "Using Any for unsupported type: %s", "typing.Sequence[int]")
            user_module.warn()
            chatty.warn()
            warnings.warn_explicit("You may be attemping to run a task that uses custom or non-Python "
                                   "base image 'x' in a Python environment.", RuntimeWarning,
                                   "subprocess_task_handler.py", 60, module="kfp.local.subprocess_task_handler")
            warnings.warn_explicit("deprecated inside TFX", DeprecationWarning, "tfx_stuff.py", 1,
                                   module="tfx.components.util")
            raise RuntimeError("the task fails")
    except RuntimeError as e:
        print("after the task:", e)
    logging.getLogger("some.library").info("logging after the task")
    os.write(2, b"fd 2 after\\n")
""")


@pytest.fixture
def child_run(tmp_path):
    user_dir = tmp_path / "project"
    user_dir.mkdir()
    (user_dir / "user_module.py").write_text(
        "import warnings\n\ndef warn():\n    warnings.warn('the user module warns you', UserWarning)\n")
    vendor_dir = tmp_path / "lib" / "site-packages"
    vendor_dir.mkdir(parents=True)
    (vendor_dir / "chatty.py").write_text(
        "import warnings\n\ndef warn():\n    warnings.warn('a library talks to itself', UserWarning)\n")
    log_path = tmp_path / "logs" / "transform.log"
    result = subprocess.run([sys.executable, "-c", CHILD, str(log_path), str(user_dir), str(vendor_dir)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return log_path.read_text(), result.stdout, result.stderr


def test_everything_the_task_prints_lands_in_the_log(child_run):
    log, _, _ = child_run
    for line in ("print to stdout", "print to stderr", "fd 1 write", "fd 2 write", "some.library logging record",
                 "absl record", "a library talks to itself", "the user module warns you"):
        assert line in log, line


def test_nothing_of_the_task_reaches_the_terminal_but_the_user_warning(child_run):
    _, out, err = child_run
    terminal = out + err
    for line in ("print to", "fd 1 write", "fd 2 write", "logging record", "absl record", "a library talks"):
        assert line not in terminal, line
    assert err.splitlines()[:2] == ["/home/me/my_module.py:4: UserWarning: the user module warns you",
                                    "  warnings.warn('the user module warns you', UserWarning)"]


def test_known_third_party_chatter_is_filtered_at_the_source(child_run):
    log, out, err = child_run
    for text in ("Using Any for unsupported type", "non-Python base image", "deprecated inside TFX"):
        assert text not in log + out + err, text


def test_everything_is_restored_after_the_task_even_when_it_raises(child_run):
    _, out, err = child_run
    assert out.splitlines() == ["before the task", "after the task: the task fails"]
    assert "some.library logging after the task" in err and "fd 2 after" in err
