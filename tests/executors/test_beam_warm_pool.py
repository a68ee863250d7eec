"""The warm worker pool (bench/beam_warm_pool.py, an experiment of issue 10 item 3) runs real TFX stages.

ExampleGen on the penguin CSV and Transform (whose workers need the user module's wheel) with the
pool's Beam args: the outputs equal the fixture chain's, and the work was done by the pool's
processes (each logs the workers it started).
"""

import os

import pytest

from tests._support import chain
from tests.executors.test_executors import FIX, _split_counts, _stage_inputs
from tfx_kfp.bench import beam_warm_pool


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
