"""The baseline is the newest version the model server loads, never a broken folder (issue 24, item 5)."""

import os

from kfp.dsl import Model

from tests._support import serving_models
from tfx_kfp.components import names
from tfx_kfp.components.latest_pushed_model import executor


def test_a_broken_newest_version_is_skipped_and_named_and_the_one_before_is_the_baseline(tmp_path):
    base = str(tmp_path / "serving" / "model")
    serving_models.write_half_plus_two(base, 1)
    serving_models.write_corrupt_version(base, 2)
    os.makedirs(os.path.join(base, "3"))  # no SavedModel in it (yet): not a version the server considers
    baseline = Model(uri=str(tmp_path / "baseline"))
    assert executor.run(serving_base_dir=base, baseline_model=baseline) == 1
    assert baseline.metadata[names.META_BASELINE] == 1 and baseline.metadata[names.META_PUSHED_VERSION] == 1
    assert list(baseline.metadata[names.META_SKIPPED_VERSIONS]) == ["2"]
    assert "Can't parse" in baseline.metadata[names.META_SKIPPED_VERSIONS]["2"]
    assert baseline.metadata[names.META_SKIPPED_VERSIONS]["2"].endswith("/2/saved_model.pb as binary proto")
    assert os.path.isfile(os.path.join(baseline.path, names.SERVING_MODEL_DIR, "saved_model.pb"))


def test_no_version_that_loads_means_no_baseline_with_the_broken_one_named(tmp_path, capsys):
    base = str(tmp_path / "serving" / "model")
    serving_models.write_corrupt_version(base, 5)
    baseline = Model(uri=str(tmp_path / "baseline"))
    assert executor.run(serving_base_dir=base, baseline_model=baseline) is None
    assert baseline.metadata[names.META_BASELINE] == 0
    assert list(baseline.metadata[names.META_SKIPPED_VERSIONS]) == ["5"]
    assert "version 5" in capsys.readouterr().out
