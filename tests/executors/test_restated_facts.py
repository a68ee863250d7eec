"""Facts we restate from TFX (to keep TFX out of TF-free modules) still agree with TFX."""

import pytest

from tfx_kfp.components import names
from tfx_kfp.components.example_gen import csv_records, validation


def test_serving_model_dir_is_tfx_s():
    from tfx.utils import path_constants

    assert names.SERVING_MODEL_DIR == path_constants.SERVING_MODEL_DIR


@pytest.mark.parametrize("value", ["12", " -3 ", "+7", "1_000", "1.5", "1e3", ".5", "nan", "-inf", "NA", "1,5",
                                   "9223372036854775807", "9223372036854775808", "0x10", "\u0663", "caf\u00e9"])
def test_csv_value_types_are_tfx_bsl_s(value):
    from tfx_bsl.coders import csv_decoder

    kinds = {csv_decoder.ColumnType.INT: "int", csv_decoder.ColumnType.FLOAT: "float",
             csv_decoder.ColumnType.STRING: "text"}
    assert validation.value_type(value) == kinds[csv_decoder._InferValueType(value.encode())]


@pytest.mark.parametrize("extra, refused", [(0, False), (1, True)])
def test_csv_field_size_limit_is_tfx_bsl_s(extra, refused):
    """TFX's CSV reader refuses exactly the values csv_records.field_size_limit() says it refuses."""
    import _csv

    from tfx_bsl.coders import csv_decoder

    line = "1," + "x" * (csv_records.field_size_limit() + extra)
    reader = csv_decoder._CSVRecordReader(",")
    if refused:
        with pytest.raises(_csv.Error, match="field larger than field limit"):
            reader.ReadLine(line)
    else:
        assert len(reader.ReadLine(line)) == 2
