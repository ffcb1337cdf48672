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


@pytest.mark.parametrize("sentence, twin", [
    ("The acting was not superb.", "The acting was superb."),
    ("It wasn't a good film.", "It was a good film."),
    ("It's not a wonderful film.", "It's a wonderful film."),
    ("THE MOVIE WASN'T GOOD.", "THE MOVIE WAS GOOD."),
    ("You will never forget this movie!", "You will forget this movie!"),
    ("It has not been a pleasure.", "It has been a pleasure."),
    ("I cannot say it was good.", "I can say it was good."),
    ("Can't recommend it.", None), ("Isn't it great.", None),  # a sentence-initial auxiliary
    ("I didn't like it.", None),  # do-support: undoing it needs the verb's inflection
    ("Not a good film.", None), ("Nothing was good here.", None),  # no auxiliary before the negation
    ("It is not bad and not good either.", None),  # two negations
    ("It was not good but fun.", None), ("Wasn't it good?", None),  # contrast, question
    ("I wasn't expecting much and I was blown away.", None),  # two clauses
    ("It's great, isn't it.", None),  # a tag question
    ("I have never seen such a bad film.", None), ("I can't recommend it enough.", None),  # emphatic, idiom
    ("It's not only funny.", None), ("The movie wasn't funny at all.", None),  # "at all" needs the negation
    ("The attempts at humor are not.", None),  # nothing after the negator
    ("The story isn\u00b4t good.", None),  # an apostrophe variant the tokenizer does not read as a negation
])
def test_a_single_negation_after_an_auxiliary_is_removed(sentence, twin):
    from sentiment.counterfactuals import affirm

    assert affirm(sentence) == twin


def test_sentence_examples_label_each_pairs_plain_member_and_reverse_the_other():
    from types import SimpleNamespace

    from sentiment.counterfactuals import SentenceExamples

    reviews = ["It is a great film. The cast is not good.", "I loved the music.", "The plot wasn't dull."]
    options = SimpleNamespace(negation_counterfactuals=1, affirmation_counterfactuals=2, sentence_anchors=2)
    sentences = SentenceExamples.sample(reviews, options, seed=0)
    assert sorted(zip(*sentences.affirmation)) == [("The cast is good.", "The cast is not good."),
                                                   ("The plot was dull.", "The plot wasn't dull.")]
    to_label = sentences.to_label()
    (plain, negated), (affirmed, negated_originals) = sentences.negation, sentences.affirmation
    assert to_label == [*plain, *affirmed, *sentences.anchors]  # each pair's plain member, never a twin
    p = np.array([0.1 + 0.8 * (i % 2) for i in range(len(to_label))], dtype=np.float32)  # a confident stub teacher
    texts, targets, counts = sentences.examples(p)
    p_plain, p_affirmed, p_anchors = np.split(p, [len(plain), len(plain) + len(affirmed)])
    assert texts == [*sentences.anchors, *plain, *negated, *affirmed, *negated_originals]
    np.testing.assert_allclose(targets, np.concatenate([p_anchors, p_plain, 1 - p_plain, p_affirmed, 1 - p_affirmed]),
                               atol=1e-6)
    assert counts == {"negation_counterfactuals": 1, "affirmation_counterfactuals": 2,
                      "sentence_anchors": len(sentences.anchors)} and len(plain) == 1 and len(sentences.anchors) == 2
    off = SimpleNamespace(negation_counterfactuals=0, affirmation_counterfactuals=0, sentence_anchors=0)
    none = SentenceExamples.sample(reviews, off, seed=0)
    assert none.to_label() == [] and none.examples([])[2] == {}
