"""The models that ship in saved_models/: load, are small, and hold their accuracy.

``default`` is the 92% recipe (issue 3); ``fast`` is its 64-unit student of the same 128-unit teacher
(``training/configs/fast.json``), for batched serving: it must still beat the best linear baseline
(NBSVM, 91.56% in ``benchmarks/results/imdb-default.md``). Both are tracked in git, so a missing one fails.
"""

import functools
import json

import pytest

from conftest import FULL_ARCHIVE, ROOT
from sentiment.data import load_split
from sentiment.metrics import binary_metrics
from sentiment.model_folder import is_model_folder, load_classifier

MINIMUM_TEST_ACCURACY = {"default": 0.92, "fast": 0.9156}
MINIMUM_PROBE_ACCURACY = 0.85
SHIPPED = [pytest.param(ROOT / "saved_models" / name, id=name) for name in MINIMUM_TEST_ACCURACY]


@functools.cache
def classifier_of(folder):
    return load_classifier(folder)


def test_every_shipped_model_is_checked_here():
    shipped = {p.name for p in (ROOT / "saved_models").iterdir() if is_model_folder(p)}
    assert shipped - {"tuned-imdb"} == set(MINIMUM_TEST_ACCURACY)  # tuned-imdb: the tuner's retrained best, 88%


@pytest.mark.parametrize("folder", SHIPPED)
def test_artifact_is_complete_and_small(folder):
    assert (folder / "model.keras").stat().st_size < 50 * 2**20
    for name in ("config.json", "metrics.json", "history.csv", "curves.png", "command.txt"):
        assert (folder / name).exists(), name
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["test"]["n"] == 25_000 and metrics["train_reviews"] + metrics["validation_reviews"] == 25_000


@pytest.mark.parametrize("name", ["default", "fast", "tuned-imdb"])
def test_probabilities_are_the_recorded_ones(name):
    """The shipped models give the probabilities recorded before the model-folder refactor, batched or one by one."""
    recorded = json.loads((ROOT / "tests" / "fixtures" / "shipped_predictions.json").read_text())
    sentences, expected = recorded["sentences"], recorded["probabilities"]
    classifier = classifier_of(ROOT / "saved_models" / name)
    assert classifier.predict(sentences).tolist() == pytest.approx(expected[name], abs=1e-5)
    one_by_one = [float(classifier.predict([sentence])[0]) for sentence in sentences]
    assert one_by_one == pytest.approx(expected[f"{name}_batch1"], abs=1e-5)


@pytest.mark.parametrize("folder", SHIPPED)
def test_short_hand_written_sentences(folder):
    """Single sentences are far shorter than IMDB reviews; the shipped models still read them right."""
    from sentiment.files import read_labelled_file

    sentences = read_labelled_file(ROOT / "benchmarks" / "short_sentences.tsv")
    result = binary_metrics(sentences.labels, classifier_of(folder).predict(sentences.texts))
    assert result["accuracy"] >= 0.9, result["confusion_matrix"]


def test_the_default_reads_intensifiers_as_intensifiers():
    """Issue 2's seed sentence, and 28 other intensified sentences written before the recipe's
    intensifier swap was trained (the seed sentence is not among them; the previous default: 0.68)."""
    from sentiment.files import read_labelled_file

    classifier = classifier_of(ROOT / "saved_models" / "default")
    assert classifier.classify(["the movie was terribly exciting"])[0]["label"] == "positive"
    sentences = read_labelled_file(ROOT / "benchmarks" / "intensifier_sentences.tsv")
    assert "the movie was terribly exciting" not in sentences.texts
    result = binary_metrics(sentences.labels, classifier.predict(sentences.texts))
    assert result["accuracy"] >= MINIMUM_PROBE_ACCURACY, result["confusion_matrix"]


def test_the_default_hides_identity_words_on_both_paths():
    """Run 40: a swap of one listed identity word for another cannot move the default (compiled or not)."""
    texts = [f"The director is a {word} woman from Ohio." for word in ("Muslim", "Christian", "Jewish", "Hindu")]
    for classifier in (classifier_of(ROOT / "saved_models" / "default"), load_classifier(ROOT / "saved_models" / "default", compiled=True)):
        scores = classifier.predict(texts).tolist()
        assert scores == pytest.approx([scores[0]] * len(texts), abs=1e-6)
        assert [float(classifier.predict([text])[0]) for text in texts] == pytest.approx(scores, abs=1e-5)


@pytest.mark.full_data
@pytest.mark.skipif(not FULL_ARCHIVE.exists(), reason=f"full IMDB archive not at {FULL_ARCHIVE}")
@pytest.mark.parametrize("folder", SHIPPED)
def test_accuracy_on_the_official_test_split(folder):
    test = load_split(FULL_ARCHIVE, "test")
    assert len(test) == 25_000
    result = binary_metrics(test.labels, classifier_of(folder).predict(test.texts))
    recorded = json.loads((folder / "metrics.json").read_text())["test"]["accuracy"]
    # default: issue 3's 92% (issue 2 asked for 88%); fast: above the NBSVM baseline
    assert result["accuracy"] >= MINIMUM_TEST_ACCURACY[folder.name]
    assert result["accuracy"] == pytest.approx(recorded, abs=0.002)  # the figure in metrics.json is real
