"""The sentence benchmark: its suite parses, its scores mean what they say, and the command writes its table."""

import json

import numpy as np
import pytest

from benchmarks import sentences
from conftest import FIXTURE

LABELLED = ("plain", "negation", "negation_scope", "double_negation", "contrast", "despite", "intensifiers",
            "diminishers", "modality", "questions", "comparisons", "typos_casing", "imdb_negation_by_hand",
            "imdb_contrast_by_hand")
INVARIANCE = ("invariance_names", "invariance_places", "invariance_numbers", "invariance_identity", "invariance_noise")


def test_the_committed_suite_covers_every_capability():
    rows = sentences.read_suite(sentences.SUITE)
    counts = {c: sum(1 for r in rows if r[0] == c) for c in LABELLED + INVARIANCE}
    assert all(counts[c] >= 15 for c in LABELLED), counts
    assert all(counts[c] >= 20 for c in INVARIANCE), counts  # 3-5 members a group
    assert len(rows) >= 400
    assert "the movie was terribly exciting" not in {text.lower() for _, _, text in rows}  # never the seed sentence
    for capability in LABELLED:
        labels = [e for c, e, _ in rows if c == capability]
        assert set(labels) == {"pos", "neg"}, capability  # both directions
    for capability in INVARIANCE:
        groups = {}
        for c, e, _ in rows:
            if c == capability:
                groups.setdefault(e, []).append(e)
        assert all(len(members) >= 2 for members in groups.values()), capability


def test_scores_count_accuracy_and_group_failures():
    rows = [("plain", "pos", "a"), ("plain", "neg", "b"), ("names", "=g1", "c"), ("names", "=g1", "d"),
            ("names", "=g2", "e"), ("names", "=g2", "f")]
    scores = sentences.score(rows, [0.9, 0.7, 0.6, 0.4, 0.2, 0.1])
    assert scores["plain"] == {"n": 2, "accuracy": 0.5}
    assert scores["names"]["n"] == 2 and scores["names"]["failure"] == 0.5  # g1 flips, g2 does not
    assert scores["names"]["spread"] == pytest.approx((0.2 + 0.1) / 2)
    assert sentences.summarize(scores) == {"suite_accuracy": 0.5, "invariance_failure": 0.5}


def test_paired_changes_count_discordant_sentences_and_their_exact_p():
    rows = [("plain", "pos", str(i)) for i in range(10)] + [("names", "=g1", "x"), ("names", "=g1", "y")]
    reference = [0.9] * 10 + [0.5, 0.5]  # all ten right
    other = [0.1] * 8 + [0.9] * 2 + [0.1, 0.9]  # eight lost, none gained
    changes = sentences.paired_changes(rows, reference, other)
    assert set(changes) == {"plain"}  # invariance groups have no right answer to pair
    assert changes["plain"]["gained"] == 0 and changes["plain"]["lost"] == 8
    assert changes["plain"]["p"] == pytest.approx(2 / 2 ** 8)  # both tails of Binomial(8, 1/2) at 0 and 8
    even = sentences.paired_changes(rows, reference, [0.1] * 2 + [0.9] * 8 + [0.5, 0.5])
    assert even["plain"] == {"gained": 0, "lost": 2, "p": 0.5}
    assert sentences.paired_changes(rows, reference, reference)["plain"] == {"gained": 0, "lost": 0, "p": 1.0}


@pytest.mark.parametrize("line, message", [("plain\tpos", "capability<TAB>expected<TAB>text"),
                                           ("plain\tmaybe\tso so", "use pos, neg or =GROUP")])
def test_a_malformed_suite_line_is_named(tmp_path, line, message):
    suite = tmp_path / "suite.tsv"
    suite.write_text("plain\tpos\tfine\n" + line + "\n")
    with pytest.raises(sentences.SuiteError, match=f"line 2: .*{message}"):
        sentences.read_suite(suite)


def test_the_command_compares_models_and_the_baseline_side_by_side(trained_model, tmp_path, capsys):
    out = tmp_path / "sentences.md"
    assert sentences.main(["--model", str(trained_model), "--data", str(FIXTURE), "--out", str(out)]) == 0
    table = out.read_text()
    assert table in capsys.readouterr().out
    assert "| capability | n | tiny | tfidf-lr |" in table
    assert "Paired against tiny" in table and "| plain | +" in table  # the baseline against the first model
    for capability in LABELLED + INVARIANCE + ("imdb_first_sentence", "imdb_last_sentence", "imdb_short_review",
                                                  "imdb_typo_sentence", "imdb_typo_invariance"):
        assert f"| {capability} |" in table
    figures = json.loads(out.with_suffix(".json").read_text())
    for system in ("tiny", "tfidf-lr"):
        values = [v.get("accuracy", v.get("failure")) for v in figures[system]["capabilities"].values()]
        assert values and all(0.0 <= v <= 1.0 for v in values)
        assert np.isfinite(figures[system]["summary"]["suite_accuracy"])


def test_a_missing_model_is_a_clear_error(tmp_path, capsys):
    assert sentences.main(["--model", str(tmp_path / "nope"), "--data", "none", "--out", str(tmp_path / "x.md")]) == 2
    assert "model folder not found" in capsys.readouterr().err


def test_paired_p_of_more_than_a_thousand_discordant_sentences():
    """A 2,500-sentence IMDB slice can split more than 1,023 ways; 2.0 ** n would overflow there."""
    rows = [("imdb_first_sentence", "pos", str(i)) for i in range(1200)]
    changes = sentences.paired_changes(rows, [0.9] * 1200, [0.9] * 100 + [0.1] * 1100)
    assert changes["imdb_first_sentence"] == {"gained": 0, "lost": 1100, "p": 0.0}  # 2 / 2 ** 1100 underflows to 0
    balanced = sentences.paired_changes(rows, [0.9] * 600 + [0.1] * 600, [0.1] * 600 + [0.9] * 600)
    assert balanced["imdb_first_sentence"]["p"] == pytest.approx(1.0)


def test_typo_rows_swap_two_neighbours_once_and_pair_each_with_its_clean_form():
    first = [("imdb_first_sentence", "pos", "A fine cast here."), ("imdb_first_sentence", "neg", "Dull and slow.")]
    rows = sentences.typo_rows(first, seed=3)
    assert rows == sentences.typo_rows(first, seed=3)  # seeded
    typos = [text for capability, _, text in rows if capability == "imdb_typo_sentence"]
    assert [label for capability, label, _ in rows if capability == "imdb_typo_sentence"] == ["pos", "neg"]
    for (_, _, clean), typo in zip(first, typos):
        differ = [i for i, (a, b) in enumerate(zip(clean, typo)) if a != b]
        assert sorted(typo) == sorted(clean) and len(typo) == len(clean)
        assert differ == [] or (len(differ) == 2 and differ[1] == differ[0] + 1)
    groups = [(expected, text) for capability, expected, text in rows if capability == "imdb_typo_invariance"]
    assert groups == [("=typo0", first[0][2]), ("=typo0", typos[0]), ("=typo1", first[1][2]), ("=typo1", typos[1])]


def test_review_sentences_end_at_line_breaks_and_sentence_marks():
    from benchmarks.sentences import review_sentences

    text = "A fine cast<br /><br />The plot drags. It ends well! Does it?<br/>yes and no.<br />"
    assert review_sentences(text) == ["A fine cast", "The plot drags.", "It ends well!", "Does it?", "yes and no."]
