import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from conftest import FIXTURE
from sentiment.data import DataError, load_split, read_official_split
from sentiment.labels import LABELS


def test_folder_labels_follow_the_declared_order():
    reviews = read_official_split(FIXTURE, "train")
    assert len(reviews) == 32
    for text, label in zip(reviews.texts, reviews.labels):
        positive = any(w in text.lower() for w in ("wonderful", "great", "loved", "brilliant", "moving", "superb", "delightful", "excellent"))
        # Every fixture review ends with three words of its own class.
        tail = text.rsplit(">", 1)[-1]
        assert LABELS[label] == ("pos" if any(w in tail for w in ("wonderful", "great", "loved", "brilliant", "moving", "superb", "delightful", "excellent")) else "neg")
        assert positive or label == 0


def test_archive_is_unpacked_once_and_matches_the_folder(fixture_archive, tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_CACHE", str(tmp_path / "cache"))
    from_archive = read_official_split(fixture_archive, "test")
    unpacked = list((tmp_path / "cache").iterdir())
    assert len(unpacked) == 1 and (unpacked[0] / ".complete").exists()
    marker_time = (unpacked[0] / ".complete").stat().st_mtime_ns
    again = read_official_split(fixture_archive, "test")
    assert (unpacked[0] / ".complete").stat().st_mtime_ns == marker_time  # not unpacked again
    from_folder = read_official_split(FIXTURE, "test")
    assert from_archive.texts == from_folder.texts == again.texts
    np.testing.assert_array_equal(from_archive.labels, from_folder.labels)


def test_validation_split_is_seeded_disjoint_and_from_train():
    train = load_split(FIXTURE, "train", validation_fraction=0.25, seed=3)
    val = load_split(FIXTURE, "validation", validation_fraction=0.25, seed=3)
    assert len(val) == 8 and len(train) == 24
    assert not set(train.texts) & set(val.texts)
    assert set(train.texts) | set(val.texts) == set(read_official_split(FIXTURE, "train").texts)
    assert load_split(FIXTURE, "validation", validation_fraction=0.25, seed=3).texts == val.texts
    assert load_split(FIXTURE, "validation", validation_fraction=0.25, seed=4).texts != val.texts
    test_texts = set(read_official_split(FIXTURE, "test").texts)
    assert not test_texts & set(val.texts)


def test_unsupervised_split_is_unlabelled():
    reviews = load_split(FIXTURE, "unsupervised")
    assert len(reviews) == 6 and set(reviews.labels.tolist()) == {-1}


def test_max_samples_subsamples():
    assert len(load_split(FIXTURE, "train", validation_fraction=0.25, max_samples=5)) == 5


def test_wrong_path_names_path_and_layout(tmp_path):
    with pytest.raises(DataError, match=r"not found: .*nowhere.*aclImdb/\{train,test\}"):
        load_split(tmp_path / "nowhere", "test")


def test_folder_not_in_layout(tmp_path):
    (tmp_path / "stuff").mkdir()
    with pytest.raises(DataError, match="not in the aclImdb layout"):
        load_split(tmp_path, "test")


def test_empty_split_names_the_folder(fixture_copy):
    for file in (fixture_copy / "test" / "neg").iterdir():
        file.unlink()
    with pytest.raises(DataError, match=r"test/neg holds no \.txt reviews"):
        load_split(fixture_copy, "test")


def test_not_an_archive(tmp_path):
    bogus = tmp_path / "data.csv"
    bogus.write_text("x")
    with pytest.raises(DataError, match="not a .tar.gz archive"):
        load_split(bogus, "test")


def test_corrupt_archive(tmp_path):
    bogus = tmp_path / "aclImdb_v1.tar.gz"
    bogus.write_bytes(b"not a tarball")
    with pytest.raises(DataError, match="could not unpack"):
        load_split(bogus, "test")


def _fixture_as_tfds(split):
    """What tensorflow-datasets' imdb_reviews yields, built from the fixture (shuffled, as tfds does)."""
    reviews = read_official_split(FIXTURE, split)
    order = np.random.default_rng(0).permutation(len(reviews))
    return tf.data.Dataset.from_tensor_slices({
        "text": [reviews.texts[i] for i in order],
        "label": reviews.labels[order],
    })


@pytest.mark.parametrize("split", ["train", "test", "unsupervised"])
def test_tfds_source_agrees_with_folder(split):
    def as_dataset(self, split, *args, **kwargs):
        return _fixture_as_tfds(str(split))

    with tfds.testing.mock_data(as_dataset_fn=as_dataset, policy=tfds.testing.MockPolicy.USE_CODE):
        via_tfds = read_official_split("tfds", split)
    via_folder = read_official_split(FIXTURE, split)
    assert via_tfds.texts == via_folder.texts
    np.testing.assert_array_equal(via_tfds.labels, via_folder.labels)


def test_tfds_random_mock_goes_through_the_real_loader():
    with tfds.testing.mock_data(num_examples=6, policy=tfds.testing.MockPolicy.USE_CODE):
        train = load_split("tfds", "train", validation_fraction=0.5)
    assert len(train) == 3 and set(train.labels.tolist()) <= {0, 1}


def test_tfds_offline_failure_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="--data ../shared/data/aclImdb_v1.tar.gz"):
        read_official_split("tfds", "test", tfds_data_dir=str(tmp_path), download=False)
