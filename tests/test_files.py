import pytest

from sentiment.files import FileFormatError, parse_labelled_bytes, read_labelled_file


def test_tsv_takes_the_text_literally():
    reviews = parse_labelled_bytes(b'pos\tGreat, "really" great\tfilm\n0\tbad\n\n', "f.tsv", csv_format=False)
    assert reviews.texts == ['Great, "really" great\tfilm', "bad"]
    assert reviews.labels.tolist() == [1, 0]


def test_csv_with_the_common_imdb_columns():
    data = b'review,sentiment\n"A fine, fine film",positive\nAwful,negative\n'
    reviews = parse_labelled_bytes(data, "imdb.csv", csv_format=True)
    assert reviews.texts == ["A fine, fine film", "Awful"] and reviews.labels.tolist() == [1, 0]


@pytest.mark.parametrize("data, csv_format, message", [
    (b"pos\tok\nmaybe\tso-so\n", False, r"line 2: unknown label 'maybe'"),
    (b"pos\tok\nno tab here\n", False, r"line 2: no tab"),
    (b"", False, r"empty"),
    (b"pos\tok\n\xff\xfe bad\n", False, r"line 2: not valid UTF-8"),
    (b"body,stars\nx,1\n", True, r"line 1: header has columns \['body', 'stars'\]"),
    (b"text,label\nfine,1\nbad,2\n", True, r"line 3: unknown label '2'"),
    (b"text,label\n", True, r"empty"),
])
def test_malformed_files_name_the_line_and_problem(data, csv_format, message):
    with pytest.raises(FileFormatError, match=message):
        parse_labelled_bytes(data, "user-file", csv_format=csv_format)


def test_missing_file(tmp_path):
    with pytest.raises(FileFormatError, match="file not found"):
        read_labelled_file(tmp_path / "nope.tsv")
