"""Fixtures for the report tests: real TFDV outputs for penguin data, and Chromium."""

import csv
import os
import time
from pathlib import Path
from typing import Dict

import pytest

from tests._support.browser import Chromium, find_chromium
from tests._support.report_samples import PENGUIN_CSV, SCREENSHOT_DIR


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium under Selenium; skips the test when Chromium or chromedriver is not installed."""
    binary = find_chromium()
    if binary is None:
        pytest.skip("no chromium or chromedriver on PATH (Debian: apt-get install -y chromium chromium-driver; "
                    "or set $CHROMIUM and $CHROMEDRIVER)")
    with Chromium(binary) as browser:
        yield browser


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where screenshots go: docs/images/reports with TFX_KFP_UPDATE_SCREENSHOTS=1, else a temp dir."""
    if os.environ.get("TFX_KFP_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        return SCREENSHOT_DIR
    return tmp_path_factory.mktemp("screenshots")


def _write_split_csvs(directory: Path) -> Dict[str, Path]:
    with open(PENGUIN_CSV, newline="") as source:
        rows = list(csv.reader(source))
    header, body = rows[0], rows[1:]
    splits = {
        "train": [r for i, r in enumerate(body) if i % 3],
        "eval": [r for i, r in enumerate(body) if not i % 3],
    }
    paths = {}
    for split, split_rows in splits.items():
        paths[split] = directory / f"{split}.csv"
        with open(paths[split], "w", newline="") as out:
            csv.writer(out).writerows([header] + split_rows)
    # A broken eval split: body_mass_g dropped, a new string column, a value out of type.
    broken_header = header[:-1] + ["island"]
    broken_rows = [r[:-1] + ["Biscoe"] for r in splits["eval"]]
    broken_rows[0][1] = "not-a-number"
    paths["broken_eval"] = directory / "broken_eval.csv"
    with open(paths["broken_eval"], "w", newline="") as out:
        csv.writer(out).writerows([broken_header] + broken_rows)
    return paths


@pytest.fixture(scope="session")
def penguin_tfdv(tmp_path_factory):
    """Real TFDV statistics, schema and anomalies of penguin train/eval splits.

    Returns a dict: ``stats`` (split → DatasetFeatureStatisticsList for train,
    eval and broken_eval), ``schema`` (inferred from train), ``anomalies``
    (eval: none expected) and ``broken_anomalies`` (broken_eval).
    """
    import tensorflow_data_validation as tfdv  # heavy: ~15 s

    paths = _write_split_csvs(tmp_path_factory.mktemp("penguin_csv"))
    stats = {split: tfdv.generate_statistics_from_csv(str(path)) for split, path in paths.items()}
    schema = tfdv.infer_schema(stats["train"])
    return {
        "stats": stats,
        "schema": schema,
        "anomalies": {split: tfdv.validate_statistics(stats[split], schema) for split in ("train", "eval")},
        "broken_anomalies": {
            "train": tfdv.validate_statistics(stats["train"], schema),
            "eval": tfdv.validate_statistics(stats["broken_eval"], schema),
        },
    }


@pytest.fixture(scope="session")
def penguin_training(tmp_path_factory):
    """A real (tiny) Keras fit on the penguin splits: history and eval confusion matrix."""
    import numpy as np
    import tensorflow as tf

    paths = _write_split_csvs(tmp_path_factory.mktemp("penguin_keras"))

    def load(path):
        data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
        return data[:, 1:], data[:, 0].astype(np.int64)

    (x_train, y_train), (x_eval, y_eval) = load(paths["train"]), load(paths["eval"])
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential(
        [tf.keras.Input(shape=(4,)), tf.keras.layers.Dense(8, activation="relu"), tf.keras.layers.Dense(3)]
    )
    model.compile(
        optimizer=tf.keras.optimizers.Adam(0.05),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy()],
    )
    started = time.monotonic()
    history = model.fit(x_train, y_train, validation_data=(x_eval, y_eval), epochs=12, batch_size=32, verbose=0)
    predicted = np.argmax(model.predict(x_eval, verbose=0), axis=1)
    matrix = [[int(np.sum((y_eval == a) & (predicted == p))) for p in range(3)] for a in range(3)]
    return {
        "history": {k: [float(v) for v in values] for k, values in history.history.items()},
        "confusion_matrix": matrix,
        "accuracy": float(np.mean(predicted == y_eval)),
        "seconds": time.monotonic() - started,
    }
