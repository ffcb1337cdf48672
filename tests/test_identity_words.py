"""Identity words: read as the unknown word by the saved model, added by training or by the retrofit script."""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import FIXTURE, tiny_overrides
from sentiment.identity_words import IdentityWords, identity_words, load_words
from sentiment.model_folder import load_classifier
from training import export, retrofit, train
from training import identity_words as build

VOCABULARY = ["", "[UNK]", "the", "a", "christian", "author", "americans", "american's", "pakistani", "story",
              "protestants"]


def hide(sentences, words=("christian", "protestant", "americans", "american", "pakistani")):
    """Each sentence's words as ids (OOV for unknown ones), through the layer, back to words."""
    layer = IdentityWords(len(VOCABULARY), *zip(*[(w, i) for i, w in enumerate(VOCABULARY)
                                                   if i > 1 and (w in words or w.removesuffix("'s") in words)]))
    rows = [[VOCABULARY.index(w) if w in VOCABULARY else 1 for w in sentence.split()] for sentence in sentences]
    ids = np.array([row + [0] * (4 - len(row)) for row in rows])  # padded with 0, which stays 0
    return [" ".join(VOCABULARY[i] for i in row if i) for row in np.asarray(layer(ids))]


def test_listed_words_and_their_possessives_become_the_unknown_id():
    assert hide(["a christian author", "the americans", "a american's story", "the protestants"]) == [
        "a [UNK] author", "the [UNK]", "a [UNK] story", "the protestants"]  # "protestants" is not listed here


def test_the_layer_built_from_the_committed_list_hides_its_words_in_a_vocabulary():
    layer = identity_words(VOCABULARY)
    assert layer.words == ["christian", "americans", "american's", "pakistani", "protestants"]
    assert layer.ids == [4, 6, 7, 8, 10]
    with pytest.raises(ValueError, match="one id per word"):
        IdentityWords(5, ["christian"], [7])


def test_the_committed_list_holds_identity_words_and_no_common_words():
    words = set(load_words())
    assert len(words) > 1000
    assert {"christian", "muslim", "pakistani", "iranian", "americans", "jewish", "gay"} <= words
    assert not words & {"i", "good", "frank", "union", "black", "white", "straight", "roman", "latin"}


def test_build_keeps_an_identity_word_only_where_the_reviews_capitalize_it(monkeypatch):
    monkeypatch.setattr(build, "IDENTITY", ("Polish", "French", "Kazakh"))
    texts = ["We had to polish the French script and polish it again."] * 5
    words = build.build_words(texts)
    assert {"french", "kazakh", "kazakhs", "jewish", "gay"} <= set(words)  # "kazakh": never seen, so kept
    assert "polish" not in words  # capitalized 0 times in 10


def test_training_with_identity_words_saves_the_layer_and_a_swap_cannot_move_a_prediction(tmp_path):
    out = tmp_path / "model"
    assert train.main(["--data", str(FIXTURE), "--out", str(out), "--work-dir", str(tmp_path / "work"), "--quiet",
                       "--no-test", *tiny_overrides(epochs=1, identity_words="true", typo_rarer_than=2)]) == 0
    classifier = load_classifier(out)
    assert classifier.config["data"]["identity_words"] is True
    names = [layer.name for layer in classifier.model.layers]
    assert names.index("typo_corrector") < names.index("vectorizer") < names.index("identity_words")
    texts = ["a Christian author", "a Protestant author", "the Pakistani cab driver", "the Iranian cab driver"]
    scores = classifier.predict(texts)
    np.testing.assert_array_equal(scores[0::2], scores[1::2])

    served = tmp_path / "export" / "1"
    assert export.main(["--model", str(out), "--out", str(served)]) == 0
    signature = tf.saved_model.load(str(served)).signatures["serving_default"]
    (exported,) = signature(tf.constant(texts)).values()
    np.testing.assert_allclose(exported.numpy().reshape(-1), scores, atol=1e-5)


def test_retrofit_hides_identity_words_from_the_same_weights(trained_model, tmp_path):
    out = tmp_path / "identity"
    assert retrofit.main(["--model", str(trained_model), "--data", str(FIXTURE), "--out", str(out),
                          "--identity-words", "true"]) == 0
    hidden, original = load_classifier(out), load_classifier(trained_model)
    assert hidden.config["data"]["identity_words"] is True
    assert json.loads((out / "metrics.json").read_text())["retrofits"][-1] == {
        "identity_words": True, "added_to": str(trained_model)}
    assert "python -m training.retrofit" in (out / "command.txt").read_text()
    # a listed word reads as the unknown word; text without one reads as before
    np.testing.assert_allclose(hidden.predict(["a Muslim director", "a good film"]),
                               original.predict(["a zzzzqqq director", "a good film"]), atol=1e-6)

    back = tmp_path / "back"
    assert retrofit.main(["--model", str(out), "--data", str(FIXTURE), "--out", str(back),
                          "--identity-words", "false"]) == 0
    np.testing.assert_allclose(load_classifier(back).predict(["a Muslim director"]),
                               original.predict(["a Muslim director"]), atol=1e-6)
