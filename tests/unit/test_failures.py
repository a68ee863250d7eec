"""Failure summaries from real exceptions: our executors' errors, a user module's, anything else."""

import importlib.util
import json

import pytest

from tfx_kfp.local.failures import MAX_LINES, summarize_failure
from tfx_kfp.local.errors import TaskFailed
from tfx_kfp.runtime.errors import AnomaliesFoundError, InputError

LOG = "/runs/penguin-1/logs/transform.log"

USER_MODULE = '''\
def _scale(inputs, name):
    return inputs[name] * 2


def _deeper(inputs, depth):
    if depth == 0:
        return _scale(inputs, "body_mass")
    return _deeper(inputs, depth - 1)


def preprocessing_fn(inputs):
    """Fails as a real module would: a feature that is not there."""
    return {"scaled": _deeper(inputs, 8)}
'''


def load_user_module(tmp_path):
    path = tmp_path / "user_module_0123abcd.py"
    path.write_text(USER_MODULE)
    spec = importlib.util.spec_from_file_location("user_module_0123abcd", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, str(path)


def library_call(fn, *args):
    """Stands for TFX/Beam calling the module and wrapping its error, as Beam's DoFn runner does."""
    try:
        return fn(*args)
    except KeyError as e:
        raise RuntimeError(f"{e!r} [while running 'AnalyzeDataset/ApplySavedModel']") from e


def raised(fn, *args) -> BaseException:
    with pytest.raises(BaseException) as info:
        fn(*args)
    return info.value


def test_our_input_error_is_shown_as_is_with_the_log(tmp_path):
    def executor():
        json.loads("{")  # an unrelated error being handled when ours is raised

    def validate():
        try:
            executor()
        except ValueError as e:
            raise InputError("/data/penguins.csv", "must be a number", field="body_mass_g", received="'heavy'") from e

    text = summarize_failure("example-gen", raised(validate), LOG)
    assert text.splitlines() == [
        "example-gen failed: /data/penguins.csv: field 'body_mass_g': must be a number (received: 'heavy')",
        f"  full log: {LOG}",
    ]


def test_our_error_wrapped_by_a_library_is_still_found():
    def wrapped():
        try:
            raise InputError("schema.pbtxt", "not a Schema text proto")
        except InputError as e:
            raise RuntimeError("TFX executor failed") from e

    assert summarize_failure("schema-gen", raised(wrapped)).splitlines() == [
        "schema-gen failed: schema.pbtxt: not a Schema text proto"]


def test_user_module_error_shows_its_last_exception_and_only_user_frames(tmp_path):
    module, path = load_user_module(tmp_path)
    text = summarize_failure("transform", raised(library_call, module.preprocessing_fn, {}), LOG,
                             user_module_paths=[path])
    lines = text.splitlines()
    assert lines[0] == "transform failed: KeyError: 'body_mass'"
    assert lines[1] == "  in your code (last 3 of 11 frames):"
    assert lines[-3:-1] == ["    user_module_0123abcd.py, line 2, in _scale", '      return inputs[name] * 2']
    assert lines[-1] == f"  full log: {LOG}"
    assert "test_failures.py" not in text and "RuntimeError" not in text and len(lines) < 15


def test_long_messages_are_cut_to_the_budget():
    rows = "\n".join(f"  feature_{i}: out of range" for i in range(40))
    text = summarize_failure("example-validator", AnomaliesFoundError(f"40 anomalies found:\n{rows}"), LOG)
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES < 15
    assert lines[0] == "example-validator failed: 40 anomalies found:"
    assert "more line(s) in the log" in lines[-2] and lines[-1] == f"  full log: {LOG}"


def test_any_other_error_shows_the_last_exception_and_its_root_cause_without_library_frames():
    def library():
        try:
            {}["missing"]
        except KeyError:
            raise OSError("cannot write gs://bucket/x")

    text = summarize_failure("trainer", raised(library), LOG)
    assert text.splitlines() == ["trainer failed: OSError: cannot write gs://bucket/x",
                                 "  caused by: KeyError: 'missing'", f"  full log: {LOG}"]
    assert summarize_failure("trainer", MemoryError()).splitlines() == ["trainer failed: MemoryError"]


def test_frames_are_named_as_the_user_knows_the_module(tmp_path):
    module, path = load_user_module(tmp_path)
    text = summarize_failure("transform", raised(library_call, module.preprocessing_fn, {}),
                             module_names={path: "/home/me/penguin_module.py"})
    assert "    penguin_module.py, line 2, in _scale" in text.splitlines()


def test_a_components_own_source_is_not_the_users_code(tmp_path):
    wrapper = tmp_path / "ephemeral_component.py"  # where KFP writes a lightweight component's source
    wrapper.write_text("def trainer(config):\n    return config['train_steps']\n")
    spec = importlib.util.spec_from_file_location("ephemeral_component", wrapper)
    component = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(component)
    text = summarize_failure("trainer", raised(component.trainer, {}), LOG)
    assert text.splitlines() == ["trainer failed: KeyError: 'train_steps'", f"  full log: {LOG}"]


def run_child_into_log(tmp_path, code):
    """A task in another process (subprocess/Docker runners): all we keep is its log."""
    import subprocess
    import sys

    log = tmp_path / "logs" / "task.log"
    log.parent.mkdir(exist_ok=True)
    with open(log, "wb") as f:
        f.write(b"INFO:absl:some chatter before\n")
        f.flush()
        code = subprocess.run([sys.executable, "-c", code], stdout=f, stderr=subprocess.STDOUT, timeout=120,
                              cwd=str(tmp_path)).returncode
    assert code == 1
    return str(log)


def test_a_task_run_in_another_process_is_summarised_from_its_log(tmp_path):
    load_user_module(tmp_path)  # writes user_module_0123abcd.py into tmp_path, the child's folder
    log = run_child_into_log(tmp_path, (
        "import user_module_0123abcd as m\n"
        "try:\n    m.preprocessing_fn({})\n"
        "except KeyError as e:\n    raise RuntimeError(f'{e!r} [while running AnalyzeDataset]') from e\n"))
    failure = TaskFailed("transform", "exit code 1", log)  # the runner's word: no exception object
    lines = summarize_failure("transform", failure, log).splitlines()
    assert lines[0] == "transform failed: KeyError: 'body_mass'"
    assert lines[1] == "  in your code (last 3 of 6 frames):"  # Python prints a recursion's repeats once
    assert lines[-3:] == ["    user_module_0123abcd.py, line 2, in _scale", "      return inputs[name] * 2",
                          f"  full log: {log}"]


def test_our_error_printed_by_another_process_is_shown_as_is(tmp_path):
    log = run_child_into_log(tmp_path, (
        "from tfx_kfp.runtime.errors import InputError\n"
        "print('example_gen: reading /data')\n"
        "raise InputError('/data/penguins.csv', 'must be a number', field='body_mass_g', received=\"'heavy'\")\n"))
    assert summarize_failure("example-gen", None, log).splitlines() == [
        "example-gen failed: /data/penguins.csv: field 'body_mass_g': must be a number (received: 'heavy')",
        f"  full log: {log}"]


def test_the_runners_task_failed_is_looked_through_to_the_task_exception(tmp_path):
    module, path = load_user_module(tmp_path)
    cause = raised(library_call, module.preprocessing_fn, {})
    failure = TaskFailed("transform", repr(cause), LOG, cause)
    assert summarize_failure("transform", failure, LOG).splitlines()[0] == "transform failed: KeyError: 'body_mass'"
    no_log = summarize_failure("trainer", TaskFailed("trainer", "exit code 137", LOG), LOG).splitlines()
    assert no_log == ["trainer failed: task 'trainer' failed: exit code 137", f"  full log: {LOG}"]
