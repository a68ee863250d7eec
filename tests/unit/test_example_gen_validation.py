"""Bad input folders fail before any TFX work, naming the file, field and rule."""

import pytest

from tfx_kfp.runtime.errors import InputError
from tfx_kfp.components.example_gen import csv_records, validation

HEADER = "species,culmen_length_mm,body_mass_g\n"


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return str(path)


def test_good_folder_returns_the_header(tmp_path):
    _write(tmp_path, "a.csv", HEADER + "0,0.1,0.2\n1,0.3,0.4\n")
    _write(tmp_path, "b.csv", HEADER + "2,0.5,0.6\n")
    assert validation.check_csv_dir(str(tmp_path), "species") == ["species", "culmen_length_mm", "body_mass_g"]


def test_missing_data_dir(tmp_path):
    missing = str(tmp_path / "nope")
    with pytest.raises(InputError, match="data directory does not exist") as error:
        validation.check_csv_dir(missing)
    assert error.value.path == missing


def test_data_root_that_is_a_file(tmp_path):
    path = _write(tmp_path, "a.csv", HEADER + "0,1,2\n")
    with pytest.raises(InputError, match="this is a file: data_root must be the directory holding the input "
                       "files") as error:
        validation.check_csv_dir(path)
    assert error.value.path == path and error.value.field == "data_root"
    assert "does not exist" not in str(error.value) and repr(str(tmp_path)) in str(error.value)


def test_folder_without_csv_files_lists_what_it_found(tmp_path):
    _write(tmp_path, "notes.txt", "hello")
    with pytest.raises(InputError, match=r"no \*\.csv files found \(received: \['notes.txt'\]\)"):
        validation.check_csv_dir(str(tmp_path))


def test_empty_csv(tmp_path):
    path = _write(tmp_path, "empty.csv", "")
    with pytest.raises(InputError, match="CSV file is empty") as error:
        validation.check_csv_dir(str(tmp_path))
    assert error.value.path == path


def test_header_without_rows(tmp_path):
    _write(tmp_path, "a.csv", HEADER)
    with pytest.raises(InputError, match="has a header but no data rows"):
        validation.check_csv_dir(str(tmp_path))


def test_ragged_row_names_file_and_line(tmp_path):
    path = _write(tmp_path, "a.csv", HEADER + "0,0.1,0.2\n1,0.3\n")
    with pytest.raises(InputError) as error:
        validation.check_csv_dir(str(tmp_path))
    assert str(error.value) == f"{path}: line 3 has 2 values; the header has 3 columns"


def test_missing_label_column_names_the_field_and_the_header(tmp_path):
    path = _write(tmp_path, "a.csv", "culmen_length_mm,body_mass_g\n0.1,0.2\n")
    with pytest.raises(InputError) as error:
        validation.check_csv_dir(str(tmp_path), "species")
    assert error.value.field == "species"
    assert str(error.value) == (f"{path}: field 'species': label column is missing from the CSV header "
                                "(received: culmen_length_mm,body_mass_g)")


def test_files_with_different_headers(tmp_path):
    _write(tmp_path, "a.csv", HEADER + "0,1,2\n")
    path = _write(tmp_path, "b.csv", "species,other\n0,1\n")
    with pytest.raises(InputError, match="header differs from") as error:
        validation.check_csv_dir(str(tmp_path))
    assert error.value.path == path


def test_duplicate_columns(tmp_path):
    _write(tmp_path, "a.csv", "a,b,a\n1,2,3\n")
    with pytest.raises(InputError, match="duplicate column names \\(received: a\\)"):
        validation.check_csv_dir(str(tmp_path))


def test_tfrecord_folder_without_records_files(tmp_path):
    _write(tmp_path, "a.csv", HEADER + "0,1,2\n")
    with pytest.raises(InputError, match="no TFRecord files found"):
        validation.check_tfrecord_dir(str(tmp_path))


def test_empty_data_root_string():
    with pytest.raises(InputError, match="a data directory is required"):
        validation.check_csv_dir("")


def _write_bytes(folder, name, data: bytes):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return str(folder / name)


def test_a_bom_is_named_instead_of_a_missing_label(tmp_path):
    path = _write_bytes(tmp_path, "a.csv", b"\xef\xbb\xbf" + HEADER.encode() + b"0,0.1,0.2\n")
    with pytest.raises(InputError) as error:
        validation.check_csv_dir(str(tmp_path), "species")
    assert str(error.value).startswith(f"{path}: line 1, column 1: the file starts with a UTF-8 byte-order mark")
    assert "missing" not in str(error.value)


def test_a_byte_that_is_not_utf8_names_line_and_column(tmp_path):
    path = _write_bytes(tmp_path, "a.csv", HEADER.encode() + b"0,0.1,0.2\n1,caf\xe9,0.4\n")
    with pytest.raises(InputError) as error:
        validation.check_csv_dir(str(tmp_path))
    assert str(error.value) == (f"{path}: field 'culmen_length_mm': line 3, column 2, character 6: "
                                "byte 0xe9 is not UTF-8 text: save the file as UTF-8")


def test_a_header_that_is_not_utf8_is_named(tmp_path):
    path = _write_bytes(tmp_path, "a.csv", b"species,\xff\xfe\n0,1\n")
    with pytest.raises(InputError, match=f"^{path}: line 1, column 2, character 9: byte 0xff is not UTF-8"):
        validation.check_csv_dir(str(tmp_path))


def test_a_number_column_with_a_text_value_names_file_line_and_column(tmp_path):
    _write(tmp_path, "a.csv", HEADER + "0,0.1,3750\n1,0.3,3800\n")
    path = _write(tmp_path, "b.csv", HEADER + "2,0.5,4000\n0,0.7,heavy\n")
    with pytest.raises(InputError) as error:
        validation.check_csv_dir(str(tmp_path), "species")
    assert error.value.field == "body_mass_g"
    assert str(error.value).startswith(
        f"{path}: field 'body_mass_g': line 3, column 3: 'heavy' is not a number, but 3 of the column's values are "
        f"(e.g. '3750' at {tmp_path / 'a.csv'} line 2)")


def test_a_number_too_long_for_int64_is_text_to_tfx(tmp_path):
    _write(tmp_path, "a.csv", "id,x\n1,1\n2,2\n99999999999999999999,3\n")
    with pytest.raises(InputError, match="line 4, column 1: '99999999999999999999' is not a number"):
        validation.check_csv_dir(str(tmp_path))


def test_text_columns_and_missing_values_are_fine(tmp_path):
    _write(tmp_path, "a.csv", "island,size,weight\nDream,S,1\nBiscoe,10,\nTorgersen,M,2.5\n")
    assert validation.check_csv_dir(str(tmp_path)) == ["island", "size", "weight"]


@pytest.mark.parametrize("value,kind", [("12", "int"), (" -3 ", "int"), ("1.5", "float"), ("1e3", "float"),
                                        ("nan", "float"), ("NA", "text"), ("1,5", "text"),
                                        ("9223372036854775808", "text")])
def test_value_types(value, kind):
    assert validation.value_type(value) == kind


def test_a_bad_byte_at_the_start_of_a_line_is_in_column_1(tmp_path):
    _write_bytes(tmp_path, "a.csv", HEADER.encode() + b"\x80x,0.1,0.2\n")
    with pytest.raises(InputError, match="field 'species': line 2, column 1, character 1: byte 0x80"):
        validation.check_csv_dir(str(tmp_path))


# (files, label): Arrow's fast check must pass exactly what the exact check passes, and send the rest there.
FAST_CHECK_CASES = {
    "numbers, text, missing values": ({"a.csv": "island,size,weight\nDream,S,1\nBiscoe,10,\nTorgersen,M,2.5\n"}, ""),
    "two files, one header": ({"a.csv": HEADER + "0,0.1,3750\n", "b.csv": HEADER + "1,0.2,3800\n"}, "species"),
    "spaces around a number": ({"a.csv": "x,y\n -3 ,a\n4,b\n"}, ""),
    "NA and nan": ({"a.csv": "x,y\nNA,nan\nNA,1.5\n1,2\n"}, ""),
    "a mostly-number column with text": ({"a.csv": HEADER + "0,0.1,3750\n1,0.3,3800\n0,0.7,heavy\n"}, ""),
    "text in a later file": ({"a.csv": HEADER + "0,0.1,3750\n1,0.3,3800\n", "b.csv": HEADER + "0,0.7,heavy\n"}, ""),
    "an integer beyond int64": ({"a.csv": "id,x\n1,1\n2,2\n99999999999999999999,3\n"}, ""),
    "beyond int64 among floats": ({"a.csv": "id,x\n1.5,1\n2.5,2\n9223372036854775808,3\n"}, ""),
    "a ragged row": ({"a.csv": HEADER + "0,0.1\n"}, ""),
    "quotes": ({"a.csv": 'name,x\n"a, b",1\n'}, ""),
    "header only": ({"a.csv": HEADER}, ""),
    "missing label": ({"a.csv": HEADER + "0,0.1,3750\n"}, "island"),
    "different headers": ({"a.csv": HEADER + "0,0.1,3750\n", "b.csv": "species,x,y\n0,1,2\n"}, ""),
    "duplicate columns": ({"a.csv": "x,x\n1,2\n"}, ""),
    "booleans are text to TFX": ({"a.csv": "x,y\ntrue,1\nfalse,2\n"}, ""),
    "a value over TFX's field size limit": ({"a.csv": "x,y\n1,a\n2," + "b" * 131073 + "\n"}, ""),
    "a value at TFX's field size limit": ({"a.csv": "x,y\n1,a\n2," + "b" * 131072 + "\n"}, ""),
}


@pytest.mark.parametrize("case", FAST_CHECK_CASES)
def test_arrows_fast_check_passes_only_what_the_exact_check_passes(tmp_path, case):
    contents, label = FAST_CHECK_CASES[case]
    files = [_write(tmp_path, name, text) for name, text in contents.items()]
    try:
        exact = validation.check_csv_files_exactly(files, label)
    except InputError:
        exact = None
    fast = validation._check_with_arrow(files, label)
    assert fast is None or fast == exact  # None: the exact check decides (and names what is wrong)
    assert validation.check_csv_files(files, label) == exact if exact else fast is None


def test_arrows_fast_check_covers_plain_numeric_and_text_csv(tmp_path):
    path = _write(tmp_path, "a.csv", "fare,company,tips\n12.45,Cab Co,0\n,Flash,1.5\n3,Cab Co,\n")
    assert validation._check_with_arrow([path], "tips") == ["fare", "company", "tips"]


LIMIT = csv_records.field_size_limit()


@pytest.mark.parametrize("quoted", [False, True])
def test_a_value_longer_than_tfxs_csv_reader_takes_names_file_line_and_column(tmp_path, quoted):
    long = "n" * (LIMIT + 1)
    cell = f'"{long[:10]}\n{long[10:]}"' if quoted else long  # a quoted value may span lines
    path = _write(tmp_path, "a.csv", HEADER + "0,0.1,3750\n\n" + f"1,{cell},3800\n2,0.3,3900\n")
    with pytest.raises(InputError, match=rf"line 4: a value of {LIMIT + 2 if quoted else LIMIT + 1} characters is "
                       rf"longer than the {LIMIT} TFX's CSV reader takes") as error:
        validation.check_csv_files([path])
    assert error.value.path == path and error.value.field == "culmen_length_mm"


def test_a_value_as_long_as_tfxs_csv_reader_takes_is_fine(tmp_path):
    path = _write(tmp_path, "a.csv", HEADER + "0,0.1,3750\n1," + "n" * LIMIT + ",3800\n")
    assert validation.check_csv_files([path]) == ["species", "culmen_length_mm", "body_mass_g"]
