"""The model that ships in saved_models/default: loads, is small, and holds its accuracy."""

import json

import pytest

from conftest import FULL_ARCHIVE, SHIPPED_MODEL
from sentiment.classifier import load_classifier
from sentiment.data import load_split
from sentiment.metrics import binary_metrics

pytestmark = pytest.mark.skipif(not (SHIPPED_MODEL / "model.keras").exists(), reason="no shipped model")


@pytest.fixture(scope="module")
def shipped():
    return load_classifier(SHIPPED_MODEL)


def test_artifact_is_complete_and_small():
    assert (SHIPPED_MODEL / "model.keras").stat().st_size < 50 * 2**20
    for name in ("config.json", "metrics.json", "history.csv", "curves.png", "command.txt"):
        assert (SHIPPED_MODEL / name).exists(), name
    metrics = json.loads((SHIPPED_MODEL / "metrics.json").read_text())
    assert metrics["test"]["n"] == 25_000 and metrics["train_reviews"] + metrics["validation_reviews"] == 25_000


def test_short_hand_written_sentences(shipped):
    """Single sentences are far shorter than IMDB reviews; the shipped model still reads them right."""
    from conftest import ROOT
    from sentiment.files import read_labelled_file

    sentences = read_labelled_file(ROOT / "benchmarks" / "short_sentences.tsv")
    result = binary_metrics(sentences.labels, shipped.predict(sentences.texts))
    assert result["accuracy"] >= 0.9, result["confusion_matrix"]


@pytest.mark.full_data
@pytest.mark.skipif(not FULL_ARCHIVE.exists(), reason=f"full IMDB archive not at {FULL_ARCHIVE}")
def test_accuracy_on_the_official_test_split(shipped):
    test = load_split(FULL_ARCHIVE, "test")
    assert len(test) == 25_000
    result = binary_metrics(test.labels, shipped.predict(test.texts))
    recorded = json.loads((SHIPPED_MODEL / "metrics.json").read_text())["test"]["accuracy"]
    assert result["accuracy"] >= 0.92  # issue 3: the recipe beats 92% (issue 2 asked for 88%)
    assert result["accuracy"] == pytest.approx(recorded, abs=0.002)  # the figure in metrics.json is real
