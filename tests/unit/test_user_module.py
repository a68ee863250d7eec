"""The user module reaches TFX only from a private folder, verified; exiting from it fails (issue 14, items 1-2).

The planted file is owned by another uid (65534, "nobody"), as an attacker sharing /tmp would own it.
"""

import hashlib
import importlib.util
import os
import stat
import tempfile

import pytest

from tfx_kfp.runtime import user_module
from tfx_kfp.runtime.errors import UserModuleError

SOURCE = "import os\n\ndef run_fn(fn_args):\n    return 'trusted'\n"
NOBODY = 65534


def _import(path: str):
    """Loads a module file the way TFX's import_utils does."""
    spec = importlib.util.spec_from_file_location("user_module_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """Code planted at the old predictable path for SOURCE in a shared temp folder, owned by another uid."""
    if os.geteuid() != 0:
        pytest.skip("chown to another uid needs root")
    shared_tmp = tmp_path / "shared_tmp"  # stands for /tmp (TMPDIR), so the test leaves /tmp alone
    shared_tmp.mkdir(mode=0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    digest = hashlib.sha256(SOURCE.encode()).hexdigest()[:12]
    folder = os.path.join(tempfile.gettempdir(), "tfx-kfp-user-modules", digest)
    os.makedirs(folder)
    path = os.path.join(folder, f"user_module_{digest}.py")
    evidence = tmp_path / "planted_code_ran"
    with open(path, "w") as f:
        f.write(f"open({str(evidence)!r}, 'w').write('pwned')\n\ndef run_fn(fn_args):\n    return 'planted'\n")
    for owned in (path, folder, os.path.dirname(folder)):
        os.chown(owned, NOBODY, NOBODY)
    return evidence


def test_a_module_planted_at_the_old_shared_path_never_runs(planted):
    with user_module.materialized(SOURCE, "run_fn") as path:
        module = _import(path)
        folder = os.path.dirname(os.path.dirname(path))
        info = os.lstat(folder)
        assert info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o700
        assert open(path).read() == SOURCE
        assert os.path.basename(path) == user_module.file_name(SOURCE)
    assert module.run_fn(None) == "trusted"
    assert not planted.exists()
    assert not os.path.exists(folder)  # removed once the task is done with it


def test_a_folder_owned_by_another_uid_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown to another uid needs root")
    folder = tmp_path / "modules"
    folder.mkdir(mode=0o700)
    os.chown(folder, NOBODY, NOBODY)
    with pytest.raises(UserModuleError, match=f"{folder}: .* owned by uid 0 with mode 0700 .*found uid {NOBODY}"):
        user_module.check_private(str(folder))


def test_a_folder_others_can_write_is_refused(tmp_path):
    folder = tmp_path / "modules"
    folder.mkdir()
    os.chmod(folder, 0o777)
    with pytest.raises(UserModuleError, match="drwxrwxrwx"):
        user_module.check_private(str(folder))


def test_a_file_that_does_not_hold_the_source_is_refused(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(SOURCE + "# changed\n")
    with pytest.raises(UserModuleError, match=f"{path} does not hold the module source"):
        user_module.verify(str(path), SOURCE)


@pytest.mark.parametrize("code,where", [
    ("import sys\nsys.exit(0)\n\ndef run_fn(fn_args):\n    pass\n", "at import (line 2)"),
    ("import sys\n\ndef run_fn(fn_args):\n    sys.exit(3)\n", "in run_fn (line 4)"),
])
def test_system_exit_from_the_user_module_fails_naming_it(code, where):
    with pytest.raises(UserModuleError) as error:
        with user_module.materialized(code, "run_fn") as path:
            with user_module.exits_are_failures(path):
                _import(path).run_fn(None)
    message = str(error.value)
    assert message.startswith(f"module_source ({os.path.basename(path)}): the user module called sys.exit(")
    assert where in message and "failed" in message


def test_missing_function_is_named_before_anything_is_written():
    with pytest.raises(UserModuleError, match="must define a top-level function 'run_fn'; functions found: f"):
        with user_module.materialized("def f():\n    pass\n", "run_fn"):
            pass
