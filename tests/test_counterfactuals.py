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
    options = SimpleNamespace(negation_counterfactuals=1, affirmation_counterfactuals=2, sentence_anchors=2,
                              contrast_counterfactuals=0)
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
    off = SimpleNamespace(negation_counterfactuals=0, affirmation_counterfactuals=0, sentence_anchors=0,
                          contrast_counterfactuals=0)
    none = SentenceExamples.sample(reviews, off, seed=0)
    assert none.to_label() == [] and none.examples([])[2] == {}


@pytest.mark.parametrize("sentence, simple", [
    ("The acting was superb.", True),
    ("The plot was not good at all.", True),  # a negation is welcome: it is what the frames put out of the verdict
    ("John Wayne is great!", True),
    ("It was fun.", True),
    ("Great.", False),  # under 3 words
    ("I loved it, really.", False),  # a comma: two clauses
    ("And then it ended.", False),  # a connective opener
    ("Unfortunately this is not the case.", False),  # a discourse adverb: the review's verdict
    ("It was boring because nothing happened.", False),  # a subordinate clause
    ("The film was good but long.", False),  # a contrast already
    ("Was it any good?", False),
    ("It started well. Then it died.", False),  # an inner stop
    ("The film (made in 1980) is dull.", False),
    ("This is one of those films that you simply have to see twice to get.", False),  # over 12 words
])
def test_simple_sentences_are_one_short_clause(sentence, simple):
    from sentiment.counterfactuals import is_simple

    assert is_simple(sentence) == simple


def test_a_contrast_frame_lowercases_the_inner_clause_but_not_i_or_a_name():
    from sentiment.counterfactuals import contrast

    assert contrast("The plot was dull.", "I loved the music!", "Although {x}, {y}.") == \
        "Although the plot was dull, I loved the music."
    assert contrast("John Wayne was great.", "it is a waste of time.", "{X}, but {y}.") == \
        "John Wayne was great, but it is a waste of time."
    assert contrast("it wasn't good.", "There's a fine score.", "{X}; however, {y}.") == \
        "It wasn't good; however, there's a fine score."


def test_contrast_pairs_join_opposite_sentences_each_way_and_take_the_asserted_target():
    from sentiment.counterfactuals import CONTRAST_TEMPLATES, contrast, contrast_examples

    texts = ["The acting was superb.", "The plot was not interesting.", "I loved the soundtrack.",
             "It is a waste of time.", "The ending was fine.", "It was boring, slow and long.", "Meh."]
    targets = [0.95, 0.10, 0.90, 0.05, 0.60, 0.02, 0.99]  # 0.60: not confident; the last two are not simple
    made, labels = contrast_examples(texts, targets, count=10, seed=3)
    assert len(made) == 4 and len(labels) == 4  # two positives and two negatives give two pairs
    positives, negatives = {texts[0]: 0.95, texts[2]: 0.90}, {texts[1]: 0.10, texts[3]: 0.05}
    used = []
    for (first, second), (first_label, second_label) in zip(zip(made[::2], made[1::2]), zip(labels[::2], labels[1::2])):
        matches = [(x, y, template) for x in positives for y in negatives for template in CONTRAST_TEMPLATES
                   if (contrast(y, x, template), contrast(x, y, template)) == (first, second)]
        assert len(matches) == 1, (first, second)  # the same words and frame, once each way round
        x, y, _ = matches[0]
        assert (first_label, second_label) == pytest.approx((positives[x], negatives[y]))  # the asserted clause's
        used += [x, y]
    assert sorted(used) == sorted([*positives, *negatives])  # each text in one pair only
    assert contrast_examples(texts, targets, count=10, seed=3)[0] == made  # seeded
    assert len(contrast_examples(texts, targets, count=1, seed=3)[0]) == 2
    assert contrast_examples(texts, targets, count=0, seed=3)[0] == []


def test_sentence_examples_add_contrasts_of_the_other_options_texts():
    from types import SimpleNamespace

    from sentiment.counterfactuals import SentenceExamples

    reviews = ["It is a great film.", "The cast is awful.", "I loved the music.", "The plot is dull."]
    options = SimpleNamespace(negation_counterfactuals=0, affirmation_counterfactuals=0, sentence_anchors=4,
                              contrast_counterfactuals=5)
    sentences = SentenceExamples.sample(reviews, options, seed=0)
    p = np.array([0.9 if ("great" in t or "loved" in t) else 0.1 for t in sentences.to_label()], dtype=np.float32)
    texts, targets, counts = sentences.examples(p)
    assert counts == {"sentence_anchors": 4, "contrast_counterfactuals": 2}
    assert texts[:4] == sentences.anchors and len(texts) == 8
    for text, target in zip(texts[4:], targets[4:]):  # the asserted clause comes last in every frame
        assert target == pytest.approx(0.9 if ("great" in text.split(",")[-1] or "loved" in text.split(",")[-1]) else 0.1)


def test_a_negated_sentence_is_paired_first_with_a_plain_one_of_the_other_side():
    from sentiment.counterfactuals import contrast_examples

    texts = ["The acting was superb.", "The plot was dull.", "It was not funny.", "I loved the score.",
             "The cast was awful.", "The music is lovely."]
    targets = [0.9, 0.1, 0.1, 0.9, 0.1, 0.9]
    for seed in range(5):
        made, labels = contrast_examples(texts, targets, count=1, seed=seed)
        assert len(made) == 2 and sum("not funny" in text for text in made) == 2  # the one negated text
        assert labels.tolist() == pytest.approx([0.1, 0.9] if made[0].endswith("not funny.") else [0.9, 0.1])
    assert len(contrast_examples(texts, targets, count=10, seed=0)[0]) == 6  # then the plain ones: three pairs
