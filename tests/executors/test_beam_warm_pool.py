"""The warm worker pool (runtime/beam_warm_pool.py) runs real TFX stages.

ExampleGen on the penguin CSV and Transform (whose workers need the user module's wheel) with the
pool's Beam args: the outputs equal the fixture chain's, and the work was done by the pool's
processes (each logs the workers it started). A pool prestarted as the in-process local runner starts
one runs the Evaluator where the rule of runtime/beam_defaults.py sends it there, with the same files.
"""

import os

import pytest

from tests._support import chain
from tests.executors.test_executors import FIX, _split_counts, _stage_inputs
from tfx_kfp.runtime import beam_warm_pool


@pytest.fixture(scope="module")
def pool():
    started = beam_warm_pool.start(2)
    yield started
    started.stop()


def _workers_started(pool) -> list:
    counts = []
    for log in pool.logs:
        with open(log.name) as f:
            counts.append(sum(1 for line in f if line.startswith("worker pool: job")))
    return counts


def test_example_gen_and_transform_run_on_the_pool(pool, tmp_path):
    before = _workers_started(pool)
    examples = chain.run_example_gen(str(tmp_path), beam_pipeline_args=pool.args)
    assert _split_counts(examples.path) == _split_counts(os.path.join(FIX, "examples"))
    _stage_inputs(tmp_path / "t", "examples", "schema")
    source = str(tmp_path / "t")
    graph, transformed = chain.run_transform(source, source, beam_args=pool.args)
    assert _split_counts(transformed.path) == _split_counts(os.path.join(FIX, "examples"))
    assert os.path.exists(os.path.join(graph.path, "transform_fn", "saved_model.pb"))
    after = _workers_started(pool)
    assert all(a > b for a, b in zip(after, before)), (before, after)  # both processes did work


def test_the_pool_runner_keeps_artifacts_local():
    from tfx_kfp.runtime import object_store

    assert not object_store.runs_remotely([f"--runner={beam_warm_pool.RUNNER}"])


def test_a_prestarted_pool_runs_the_evaluator_where_the_rule_says_with_the_same_files(tmp_path, monkeypatch):
    import filecmp

    from tfx_kfp.runtime import beam_defaults

    monkeypatch.setattr(beam_warm_pool, "PRESTART_CORES", range(1, 1 << 16))  # whatever this machine has
    monkeypatch.setitem(beam_defaults.WARM_POOL_ABOVE, "evaluator", 0)  # the fixture's examples are small
    beam_warm_pool.prestart({"TF_USE_LEGACY_KERAS": "1"})
    pool = beam_warm_pool._prestarted
    try:
        source = _stage_inputs(tmp_path / "pool", "examples", "model")
        blessed, _, logged = chain.run_evaluator(source, source, beam_args=[])
        assert blessed and all(count > 0 for count in _workers_started(pool))
    finally:
        beam_warm_pool.discard_prestarted()
    assert all(process.poll() is not None for process in pool.processes)
    assert not any(os.path.exists(log.name) for log in pool.logs)
    in_memory = _stage_inputs(tmp_path / "in_memory", "examples", "model")
    chain.run_evaluator(in_memory, in_memory, beam_args=["--direct_running_mode=in_memory"])
    compared = 0
    for folder, _, files in os.walk(os.path.join(in_memory, "evaluation")):
        for name in files:
            ours = os.path.join(folder, name)
            if name.endswith(".json"):  # the eval config names the model's folder
                with open(ours) as a, open(ours.replace(in_memory, source)) as b:
                    assert a.read().replace(in_memory, source) == b.read(), name
            else:
                assert filecmp.cmp(ours, ours.replace(in_memory, source), shallow=False), name
            compared += 1
    assert compared >= 3
