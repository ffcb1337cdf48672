"""Neutral words: identity words and places (names, when a list holds them) read as their class, in training and in the saved model."""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import FIXTURE, tiny_overrides
from sentiment.model_folder import load_classifier
from sentiment.neutral_words import NeutralWords, count_class_tokens, load_word_classes, read_as_classes
from training import export, train, typos
from training import neutral_words as build

WORDS = {"identity": ["christian", "protestant", "americans", "frank"], "name": ["tom", "priya", "frank"],
         "place": ["chicago", "lagos", "priya"]}


def read(texts, words=WORDS):
    return read_as_classes(NeutralWords(words), texts)


def test_class_words_become_their_class_token_in_any_case_and_with_a_possessive():
    assert read(["Tom and PRIYA were great in Chicago.", "I could not stand Tom's character",
                 "X is a Christian author", "the Americans"]) == [
        "xxname and xxname were great in xxplace", "i could not stand xxname's character",
        "x is a xxidentity author", "the xxidentity"]


def test_other_words_are_only_standardized():
    assert read(["<br />Tomorrow, Chicagoans said: drum-drum!", ""]) == ["tomorrow chicagoans said drum drum !", ""]


def test_a_word_of_two_classes_takes_the_first_class():
    assert read(["Frank Priya"]) == ["xxidentity xxname"]


def test_unknown_class_is_refused():
    with pytest.raises(ValueError, match="unknown word classes"):
        NeutralWords({"surname": ["smith"]})


def test_count_class_tokens():
    assert count_class_tokens("xxname's dog met xxplace and xxidentity xxnames") == 3


def test_committed_classes_hold_identity_words_and_places_and_leave_common_words_out():
    classes = load_word_classes()
    assert set(classes) == {"identity", "place"}  # names carry IMDB's signal about actors (run 37-38 in the log)
    assert {"christian", "muslim", "pakistani", "iranian", "americans"} <= set(classes["identity"])
    assert {"chicago", "london"} <= set(classes["place"])
    everything = set().union(*classes.values())
    assert not everything & {"i", "good", "joy", "hope", "will", "nice", "best", "love", "oscar", "grace"}


def test_build_keeps_a_list_word_only_where_the_reviews_capitalize_it(monkeypatch):
    monkeypatch.setattr(build, "faker_names", lambda: {"Joy", "Kwame", "Tom", "Oscar", "I"})
    monkeypatch.setattr(build, "geonames_places", lambda: {"Nice", "Chicago"})
    texts = ["It was a joy to see Tom in Chicago, and a nice time too."] * 5 + ["Then Joy said so in Nice."]
    classes = build.word_classes(texts)
    assert set(build.word_classes(texts, ["identity", "place"])) == {"identity", "place"}
    assert classes["name"] == ["kwame", "tom"]  # "joy": capitalized 1 time in 6; "kwame": never seen; "oscar": NOT_NAMES; "i": one letter
    assert classes["place"] == ["chicago"]
    assert {"muslim", "muslims", "jewish", "gay"} <= set(classes["identity"]) and "union" not in classes["identity"]


@pytest.fixture(scope="module")
def neutral_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("neutral") / "model"
    assert train.main(["--data", str(FIXTURE), "--out", str(out), "--work-dir", str(out.parent / "work"), "--quiet",
                       "--no-test", *tiny_overrides(epochs=1, neutral_words="true", typo_rarer_than=2)]) == 0
    return out


def test_training_saves_the_layer_and_a_swap_within_a_class_cannot_move_a_prediction(neutral_model, tmp_path):
    classifier = load_classifier(neutral_model)
    assert classifier.config["data"]["neutral_words"] is True
    names = [layer.name for layer in classifier.model.layers]
    assert names.index("neutral_words") < names.index("typo_corrector") < names.index("vectorizer")
    assert not {"chicago", "christian"} & set(classifier.model.get_layer("vectorizer").get_vocabulary())
    texts = ["a Christian author", "a Protestant author", "shot in Chicago", "shot in Lagos"]
    scores = classifier.predict(texts)
    np.testing.assert_array_equal(scores[0::2], scores[1::2])

    served = tmp_path / "export" / "1"
    assert export.main(["--model", str(neutral_model), "--out", str(served)]) == 0
    signature = tf.saved_model.load(str(served)).signatures["serving_default"]
    (exported,) = signature(tf.constant(texts)).values()
    np.testing.assert_allclose(exported.numpy().reshape(-1), scores, atol=1e-5)


def test_adding_a_corrector_keeps_the_neutral_words(tmp_path):
    model = tmp_path / "model"
    assert train.main(["--data", str(FIXTURE), "--out", str(model), "--work-dir", str(tmp_path / "work"), "--quiet",
                       "--no-test", *tiny_overrides(epochs=1, neutral_words="true")]) == 0
    out = tmp_path / "typo"
    assert typos.main(["--model", str(model), "--data", str(FIXTURE), "--out", str(out), "--rarer-than", "2"]) == 0
    names = [layer.name for layer in load_classifier(out).model.layers]
    assert names.index("neutral_words") < names.index("typo_corrector")
    assert json.loads((out / "config.json").read_text())["data"]["neutral_words"] is True
