"""Users' own labelled files for evaluation: TSV (``label<TAB>text``) or CSV (``text``/``review`` + ``label``/``sentiment``)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from .data import Reviews
from .labels import parse_label

TEXT_COLUMNS = ("text", "review")
LABEL_COLUMNS = ("label", "sentiment")
FORMAT_HELP = (
    "Expected TSV, one example a line: the label (0/1 or neg/pos), a tab, then the text; "
    "or CSV with a header naming a text column (text or review) and a label column (label or sentiment)."
)


class FileFormatError(ValueError):
    """A labelled file could not be read; the message names the file, the line and the problem."""


def read_labelled_file(path: str | Path) -> Reviews:
    """Read a labelled file; ``.csv`` files are CSV, anything else is TSV."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: file not found. {FORMAT_HELP}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise FileFormatError(f"{path}: cannot be read ({err.strerror or err})") from None
    return parse_labelled_bytes(data, name=str(path), csv_format=path.suffix.lower() == ".csv")


def split_lines(text: str) -> list[str]:
    """Lines split on ``\\n`` only (``str.splitlines`` also splits on ``\\x85``, which IMDB reviews contain)."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def parse_labelled_bytes(data: bytes, name: str, csv_format: bool) -> Reviews:
    """Parse the bytes of a labelled file (shared by the evaluate command and the app's upload)."""
    text = decode_utf8(data, name)
    reviews = _parse_csv(text, name) if csv_format else _parse_tsv(text, name)
    if not reviews.texts:
        raise FileFormatError(f"{name}: no examples found (the file is empty). {FORMAT_HELP}")
    return reviews


def decode_utf8(data: bytes, name: str) -> str:
    """Decode UTF-8 (a BOM is allowed), or fail naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise FileFormatError(
            f"{name}, line {line}: not valid UTF-8 (byte {data[err.start]:#04x} at offset {err.start}). "
            "Save the file as UTF-8 and try again."
        ) from None


def _parse_tsv(text: str, name: str) -> Reviews:
    texts, labels = [], []
    for number, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise FileFormatError(f"{name}, line {number}: no tab between label and text. {FORMAT_HELP}")
        label, review = line.split("\t", 1)
        try:
            labels.append(parse_label(label))
        except ValueError as err:
            raise FileFormatError(f"{name}, line {number}: {err}") from None
        texts.append(review)
    return Reviews(texts, np.asarray(labels, dtype=np.int64))


def _parse_csv(text: str, name: str) -> Reviews:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = {c.strip().lower(): c for c in (reader.fieldnames or []) if c is not None}
    text_col = next((columns[c] for c in TEXT_COLUMNS if c in columns), None)
    label_col = next((columns[c] for c in LABEL_COLUMNS if c in columns), None)
    if text_col is None or label_col is None:
        raise FileFormatError(
            f"{name}, line 1: header has columns {list(reader.fieldnames or [])}; "
            f"need a text column ({' or '.join(TEXT_COLUMNS)}) and a label column ({' or '.join(LABEL_COLUMNS)})."
        )
    texts, labels = [], []
    try:
        for row in reader:
            number = reader.line_num
            review, label = row.get(text_col), row.get(label_col)
            if review is None or label is None:
                raise FileFormatError(f"{name}, line {number}: too few fields (expected {text_col!r} and {label_col!r}).")
            try:
                labels.append(parse_label(label))
            except ValueError as err:
                raise FileFormatError(f"{name}, line {number}: {err}") from None
            texts.append(review)
    except csv.Error as err:
        raise FileFormatError(f"{name}, line {reader.line_num}: malformed CSV ({err}).") from None
    return Reviews(texts, np.asarray(labels, dtype=np.int64))


def parse_texts_bytes(data: bytes, name: str) -> list[str]:
    """Unlabelled texts from an upload: CSV (a ``text`` or ``review`` column) or plain text, one per line."""
    text = decode_utf8(data, name)
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = {c.strip().lower(): c for c in (reader.fieldnames or []) if c is not None}
        column = next((columns[c] for c in TEXT_COLUMNS if c in columns), None)
        if column is None:
            raise FileFormatError(
                f"{name}, line 1: header has columns {list(reader.fieldnames or [])}; need a text column "
                f"({' or '.join(TEXT_COLUMNS)})."
            )
        try:
            texts = [row[column] for row in reader if row.get(column) is not None]
        except csv.Error as err:
            raise FileFormatError(f"{name}, line {reader.line_num}: malformed CSV ({err}).") from None
    else:
        texts = [line for line in split_lines(text) if line.strip()]
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise FileFormatError(f"{name}: no texts found (the file is empty).")
    return texts
