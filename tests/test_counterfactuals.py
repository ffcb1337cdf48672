"""Negation counterfactuals: which sentences are negated, how, and the labels the pairs get."""

import numpy as np
import pytest

from sentiment.counterfactuals import candidate_sentences, counterfactual_examples, negate, split_sentences


@pytest.mark.parametrize("sentence, twins", [
    ("The acting was superb.", {"The acting was not superb.", "The acting wasn't superb.", "The acting was never superb."}),
    ("It's a wonderful film.", {"It's not a wonderful film."}),
    ("You will love this movie!", {"You will not love this movie!", "You won't love this movie!"}),
    ("It has been a pleasure to watch.", {"It has not been a pleasure to watch.", "It hasn't been a pleasure to watch."}),
])
def test_the_first_auxiliary_or_copula_is_negated(sentence, twins):
    made = {negate(sentence, np.random.default_rng(seed)) for seed in range(40)}
    assert made == twins


@pytest.mark.parametrize("sentence", [
    "I don't like it.", "It was never boring.", "Not a good film.",  # already negated
    "The plot was good but too long.", "Although slow, it is great.",  # a contrast decides
    "Was it good?",  # a question
    "This movie has great music.", "I loved it.",  # no auxiliary to negate ("has" here is a main verb)
    "Great.",  # too short
])
def test_sentences_whose_negation_is_not_simple_are_left_alone(sentence):
    assert negate(sentence, np.random.default_rng(0)) is None


def test_a_possessive_is_not_taken_for_a_copula():
    assert negate("The film's score is great.", np.random.default_rng(1)) in {
        "The film's score is not great.", "The film's score isn't great.", "The film's score is never great."}


def test_pairs_are_seeded_one_per_review_and_labelled_in_reverse():
    reviews = ["It is a great film. The cast is superb.", "Bad.<br />The plot was dull.", "Nothing here."]
    originals, twins = candidate_sentences(reviews, 10, seed=3)
    assert (originals, twins) == candidate_sentences(reviews, 10, seed=3)
    assert sorted(originals) == ["It is a great film.", "The plot was dull."]
    texts, labels = counterfactual_examples(originals, twins, [0.95, 0.6], count=10)
    assert texts == [originals[0], twins[0]]  # the unsure one (0.6) is left out
    np.testing.assert_allclose(labels, [0.95, 0.05], atol=1e-6)
    assert split_sentences("One. Two!<br /><br />Three?") == ["One.", "Two!", "Three?"]


@pytest.mark.parametrize("sentence, plain", [
    ("The acting was superb.", True),
    ("I loved every minute of it.", True),
    ("It wasn't good.", False), ("Never again, never.", False),  # negation
    ("Good cast but a weak plot.", False), ("Was it worth it?", False),  # contrast, question
    ("Superb.", False),  # too short
])
def test_plain_sentences_hold_no_negation_contrast_or_question(sentence, plain):
    from sentiment.counterfactuals import is_plain

    assert is_plain(sentence) is plain


def test_anchor_sentences_are_seeded_plain_and_at_most_two_a_review():
    from sentiment.counterfactuals import anchor_sentences

    reviews = ["It is a great film. The cast is superb. I loved the music. It is not long.",
               "The plot was dull. Was it worth it? No.", "Nothing here."]
    chosen = anchor_sentences(reviews, 10, seed=5)
    assert chosen == anchor_sentences(reviews, 10, seed=5)
    assert "The plot was dull." in chosen and len(chosen) == 3  # two of the first review, one of the second
    assert set(chosen) <= {"It is a great film.", "The cast is superb.", "I loved the music.", "The plot was dull."}
    assert len(anchor_sentences(reviews, 1, seed=5)) == 1
