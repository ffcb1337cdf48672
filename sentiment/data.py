"""IMDB reviews from tensorflow-datasets or from the official ``aclImdb`` folder / archive.

Every source returns :class:`Reviews` (texts and labels with ``neg``=0, ``pos``=1, unlabelled
= -1). Official splits are ``train``, ``test`` and ``unsupervised``; :func:`load_split` adds the
seeded ``validation`` split carved out of ``train`` (the test split is never used for it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .labels import LABELS, UNLABELLED

OFFICIAL_SPLITS = ("train", "test", "unsupervised")
SPLITS = ("train", "validation", "test", "unsupervised")
LAYOUT = (
    "the official aclImdb layout: aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt "
    "(and aclImdb/train/unsup/ for the unlabelled reviews), as a folder or as aclImdb_v1.tar.gz"
)


class DataError(ValueError):
    """A data source is missing, malformed or empty; the message names the path and what was expected."""


@dataclass
class Reviews:
    """Parallel lists of review texts and integer labels."""

    texts: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, indices) -> "Reviews":
        return Reviews([self.texts[i] for i in indices], self.labels[np.asarray(indices, dtype=np.int64)])


def cache_dir() -> Path:
    """Where archives are unpacked: ``$SENTIMENT_CACHE`` or ``~/.cache/sentiment``."""
    return Path(os.environ.get("SENTIMENT_CACHE", Path.home() / ".cache" / "sentiment"))


def read_official_split(source: str, split: str, *, tfds_data_dir: str | None = None, download: bool = True) -> Reviews:
    """One official split (``train``, ``test``, ``unsupervised``) from ``source``.

    ``source`` is ``"tfds"`` (tensorflow-datasets ``imdb_reviews``), an ``aclImdb`` folder (or
    a folder holding one), or the ``aclImdb_v1.tar.gz`` archive (unpacked once into
    :func:`cache_dir`). Reviews come sorted by text, so both sources give the same order.
    """
    if split not in OFFICIAL_SPLITS:
        raise DataError(f"unknown split {split!r}: expected one of {OFFICIAL_SPLITS}")
    if str(source) == "tfds":
        reviews = _read_tfds(split, tfds_data_dir, download)
    else:
        reviews = _read_folder(resolve_folder(source), split)
    order = sorted(range(len(reviews)), key=lambda i: (reviews.texts[i], int(reviews.labels[i])))
    return reviews.take(order)


def load_split(
    source: str,
    split: str,
    *,
    validation_fraction: float = 0.1,
    seed: int = 1337,
    max_samples: int | None = None,
    tfds_data_dir: str | None = None,
    download: bool = True,
) -> Reviews:
    """A split ready for training or evaluation.

    ``train`` and ``validation`` are a seeded partition of the official train split
    (``validation_fraction`` of it held out). ``max_samples`` keeps a seeded random subset.
    """
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}: expected one of {SPLITS}")
    if max_samples is not None and max_samples < 1:
        raise DataError(f"max_samples={max_samples} is invalid: expected an integer >= 1 (or none for all)")
    official = "train" if split in ("train", "validation") else split
    reviews = read_official_split(source, official, tfds_data_dir=tfds_data_dir, download=download)
    rng = np.random.default_rng(seed)
    if split in ("train", "validation"):
        order = rng.permutation(len(reviews))
        n_val = max(1, int(round(len(reviews) * validation_fraction)))
        if n_val >= len(reviews):
            raise DataError(f"{source}: train split has {len(reviews)} reviews, too few to hold out validation")
        reviews = reviews.take(np.sort(order[:n_val] if split == "validation" else order[n_val:]))
    if max_samples is not None and max_samples < len(reviews):
        reviews = reviews.take(np.sort(rng.permutation(len(reviews))[:max_samples]))
    return reviews


def resolve_folder(source: str | os.PathLike) -> Path:
    """The ``aclImdb`` folder for a folder or archive path, unpacking an archive once."""
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"data path not found: {path}. Expected {LAYOUT}, or 'tfds' for tensorflow-datasets.")
    if path.is_file():
        if not (path.name.endswith((".tar.gz", ".tgz", ".tar"))):
            raise DataError(f"{path} is a file but not a .tar.gz archive. Expected {LAYOUT}.")
        path = _unpack(path)
    for candidate in (path, path / "aclImdb"):
        if (candidate / "train").is_dir() or (candidate / "test").is_dir():
            return candidate
    raise DataError(f"{path} is not in the aclImdb layout: no train/ or test/ folder. Expected {LAYOUT}.")


def _unpack(archive: Path) -> Path:
    digest = hashlib.sha256()
    with archive.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    target = cache_dir() / f"{archive.name.split('.')[0]}-{digest.hexdigest()[:12]}"
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
    try:
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.isdir() or (m.isfile() and m.name.endswith(".txt"))]
            tar.extractall(tmp, members=members, filter="data")
        (tmp / ".complete").write_text(str(archive))
        if target.exists():  # a half-unpacked leftover without the marker
            shutil.rmtree(target)
        os.replace(tmp, target)
    except (tarfile.TarError, OSError, EOFError) as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(f"could not unpack {archive}: {err}. Expected {LAYOUT}.") from None
    return target


def _read_folder(root: Path, split: str) -> Reviews:
    texts: list[str] = []
    labels: list[int] = []
    if split == "unsupervised":
        classes = [("unsup", UNLABELLED)]
        base = root / "train"
    else:
        classes = [(name, index) for index, name in enumerate(LABELS)]
        base = root / split
    for folder_name, label in classes:
        folder = base / folder_name
        if not folder.is_dir():
            raise DataError(f"missing folder {folder}. Expected {LAYOUT}.")
        files = sorted(folder.glob("*.txt"))
        if not files:
            raise DataError(f"{folder} holds no .txt reviews: the {split} split is empty. Expected {LAYOUT}.")
        for file in files:
            texts.append(file.read_text(encoding="utf-8", errors="replace"))
            labels.append(label)
    return Reviews(texts, np.asarray(labels, dtype=np.int64))


def _read_tfds(split: str, data_dir: str | None, download: bool) -> Reviews:
    import tensorflow_datasets as tfds

    try:
        dataset = tfds.load(
            "imdb_reviews", split=split, as_supervised=True, data_dir=data_dir, download=download,
        )
    except Exception as err:  # tfds raises many types (network, missing files, checksum)
        raise DataError(
            f"tensorflow-datasets could not load imdb_reviews/{split} "
            f"(data_dir={data_dir or '~/tensorflow_datasets'}, download={download}): "
            f"{type(err).__name__}: {str(err)[:300]}. Offline, pass the aclImdb folder or "
            "aclImdb_v1.tar.gz instead, e.g. --data ../shared/data/aclImdb_v1.tar.gz"
        ) from None
    texts, labels = [], []
    for text, label in tfds.as_numpy(dataset):
        texts.append(text.decode("utf-8", errors="replace"))
        labels.append(int(label))
    if not texts:
        raise DataError(f"tensorflow-datasets imdb_reviews/{split} is empty (data_dir={data_dir})")
    return Reviews(texts, np.asarray(labels, dtype=np.int64))
