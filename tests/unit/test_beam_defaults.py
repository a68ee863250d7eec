"""The default Beam mode rule (runtime/beam_defaults.py): explicit args win; else by input bytes and cores."""

import os

import pytest

from tfx_kfp.runtime import beam_defaults as rule

IN_MEMORY = ["--direct_running_mode=in_memory"]
FILES_LIMIT = rule.IN_MEMORY_MEASURED_UP_TO["files"]
EXAMPLES_LIMIT = rule.IN_MEMORY_MEASURED_UP_TO["examples"]


@pytest.mark.parametrize("cores", [1, 2, 16])
def test_in_memory_up_to_the_largest_measured_input(cores):
    assert rule.choose(0, "files", cores) == IN_MEMORY
    assert rule.choose(FILES_LIMIT, "files", cores) == IN_MEMORY
    assert rule.choose(EXAMPLES_LIMIT, "examples", cores) == IN_MEMORY


def test_multi_processing_above_it_with_one_worker_per_core():
    assert rule.choose(FILES_LIMIT + 1, "files", 2) == ["--direct_running_mode=multi_processing",
                                                        "--direct_num_workers=2"]
    assert rule.choose(EXAMPLES_LIMIT + 1, "examples", 8)[-1] == "--direct_num_workers=8"


def test_one_core_always_in_memory():
    assert rule.choose(10 * FILES_LIMIT, "files", 1) == IN_MEMORY
    assert rule.choose(10 * FILES_LIMIT, "files", None) == IN_MEMORY  # os.cpu_count() may be None


def test_an_unknown_kind_is_named():
    with pytest.raises(ValueError, match="kind must be one of \\['examples', 'files'\\], got 'csv'"):
        rule.choose(1, "csv", 2)


def test_given_args_always_win(tmp_path):
    big = tmp_path / "data.csv"
    with open(big, "wb") as f:
        f.truncate(FILES_LIMIT + 1)  # sparse: the size counts, not the blocks
    given = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
    assert rule.resolve(given, [str(tmp_path)], "files", cores=4) == given
    assert rule.resolve([], [str(tmp_path)], "files", cores=4)[0] == "--direct_running_mode=multi_processing"
    assert rule.resolve(None, [str(tmp_path)], "files", cores=4)[0] == "--direct_running_mode=multi_processing"


def test_the_input_size_is_the_bytes_under_the_inputs_links_followed(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.csv").write_bytes(b"x" * 10)
    (tmp_path / "a" / "Split-train").mkdir()
    (tmp_path / "a" / "Split-train" / "part.gz").write_bytes(b"y" * 5)
    (tmp_path / "links").mkdir()
    os.symlink(tmp_path / "a" / "x.csv", tmp_path / "links" / "00000-x.csv")  # ExampleGen's span selection
    assert rule.size_of([str(tmp_path / "a")]) == 15
    assert rule.size_of([str(tmp_path / "links"), str(tmp_path / "a" / "x.csv")]) == 20
    assert rule.size_of(["s3://bucket/data", str(tmp_path / "missing")]) == 0  # not looked up: counts as small


def test_the_choice_is_printed_with_the_rule(tmp_path, capsys):
    rule.resolve([], [str(tmp_path)], "examples", cores=2)
    out = capsys.readouterr().out
    assert "0 bytes of input (examples) on 2 cores: --direct_running_mode=in_memory" in out
    assert "runtime/beam_defaults.py" in out


def test_the_pipeline_parameter_defaults_to_the_rule():
    from tfx_kfp.pipelines.training import PARAMETERS

    assert PARAMETERS["beam_pipeline_args"].default == [] == rule.DEFAULT_BEAM_PIPELINE_ARGS


def test_the_rule_decides_only_without_beam_args_and_work_off_beam_gets_a_worker_per_core():
    assert rule.rule_decides([]) and rule.rule_decides(None)
    assert not rule.rule_decides(["--direct_running_mode=in_memory"])
    assert rule.local_workers(2) == 2 and rule.local_workers(0) == 1
    assert rule.local_workers() == rule.available_cores()


def test_the_cores_are_those_this_process_may_use(monkeypatch):
    assert 1 <= rule.available_cores() <= (os.cpu_count() or 1)
    assert rule.available_cores() <= len(os.sched_getaffinity(0))
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "1")  # as a quota of one CPU would
    assert rule.available_cores() == 1
    assert rule.resolve([], [], "examples") == IN_MEMORY


POOL = ["--runner=tfx_kfp.runtime.beam_warm_pool.WarmPoolRunner"]


def test_with_a_warm_pool_the_evaluator_takes_it_above_its_threshold_transform_instead_of_multi_processing():
    pool = lambda: POOL  # noqa: E731 - a ready pool's args
    evaluator_limit = rule.WARM_POOL_ABOVE["evaluator"]
    assert rule.choose(evaluator_limit, "examples", 2, "evaluator", pool) == IN_MEMORY
    assert rule.choose(evaluator_limit + 1, "examples", 2, "evaluator", pool) == POOL
    assert rule.choose(EXAMPLES_LIMIT, "examples", 2, "transform", pool) == IN_MEMORY
    assert rule.choose(EXAMPLES_LIMIT + 1, "examples", 2, "transform", pool) == POOL
    assert rule.choose(EXAMPLES_LIMIT + 1, "examples", 2, "statistics_gen", pool)[0] == \
        "--direct_running_mode=multi_processing"  # a stage not listed never waits for the pool
    assert rule.choose(10 * EXAMPLES_LIMIT, "examples", 1, "evaluator", pool) == IN_MEMORY


def test_without_a_ready_pool_the_rule_is_unchanged():
    for pool in (None, lambda: None):  # none in this process; one that failed to start
        assert rule.choose(rule.WARM_POOL_ABOVE["evaluator"] + 1, "examples", 2, "evaluator", pool) == IN_MEMORY
        assert rule.choose(EXAMPLES_LIMIT + 1, "examples", 2, "transform", pool)[-1] == "--direct_num_workers=2"


def test_a_process_without_a_prestarted_pool_has_no_pool_args():
    from tfx_kfp.runtime import beam_warm_pool

    assert beam_warm_pool.prestarted_args() is None
