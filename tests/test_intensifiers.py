"""Intensifier swapping: the WordNet-derived class, the seeded swap, and its place in training."""

import json
import re
import shutil

import numpy as np
import pytest

from conftest import FIXTURE
from sentiment.model_folder import load_classifier
from sentiment.config import Config, TrainConfig
from sentiment.intensifiers import INTENSIFIERS, WORDNET_DIR, swap_intensifiers, wordnet_intensifiers
from sentiment.training import train

# Lines in WordNet 3.0's own format (copied from data.adv / index.*), enough to exercise each rule.
DATA_ADV = """\
  1 This software and database is being provided to you, the LICENSEE, by Princeton University
00031899 02 r 04 very 0 really 0 real 1 rattling 0 000 | used as intensifiers; `real' is sometimes used informally for `really'; `rattling' is informal; "she was very gifted"; "he played very well"
00054950 02 r 04 terribly 0 awfully 0 awful 0 frightfully 0 001 ;u 07075172 n 0000 | used as intensifiers; "terribly interesting"; "I'm awful sorry"
00183090 02 r 03 wonderfully 0 superbly 0 marvelously 0 000 | (used as an intensifier) extremely well; "her voice is superbly disciplined"
00212604 02 r 02 ever 5 ever_so 0 001 ;u 06321054 n 0000 | (intensifier for adjectives) very; "she was ever so friendly"
00008997 02 r 02 absolutely 0 utterly 0 000 | completely and without qualification; used informally as intensifiers; "an absolutely magnificent painting"
00032705 02 r 01 fucking 0 000 | intensifier, very colloquial; "what took you so fucking long?"
00049220 02 r 01 badly 0 000 | in a disadvantageous way; to a bad degree; "was badly cheated"
"""
INDEX = {
    "index.adj": "  1 licence header line\nawful a 6 5 & ^ = + ; 6 2 01126291 00193799\nreal a 9 6 ! & 9 5 01932974\n"
                 "very a 2 1 & 2 2 01839318 02068947\nfucking a 1 1 & 1 0 01513619\n",
    "index.noun": "rattling n 1 3 @ ~ + 1 1 07391240\n",
    "index.verb": "",
}


def mini_wordnet(folder):
    folder.mkdir()
    (folder / "data.adv").write_text(DATA_ADV)
    for name, text in INDEX.items():
        (folder / name).write_text(text)
    return folder


def test_the_class_is_the_adverb_only_lemmas_of_synsets_defined_as_intensifiers(tmp_path):
    # very/real are also adjectives, rattling a noun, awful an adjective; ever_so is two words; the
    # synsets of "extremely well", "very" (in parentheses) and "completely ..." say more than "intensifier".
    assert wordnet_intensifiers(mini_wordnet(tmp_path / "wn")) == ("awfully", "frightfully", "really", "terribly")


@pytest.mark.skipif(not (WORDNET_DIR / "data.adv").is_file(),
                    reason=f"WordNet 3.0 is not installed at {WORDNET_DIR} (apt-get install wordnet-base)")
def test_the_shipped_class_is_what_wordnet_gives():
    assert wordnet_intensifiers() == INTENSIFIERS


def test_a_folder_without_wordnet_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="data.adv.*apt-get install wordnet-base"):
        wordnet_intensifiers(tmp_path)


REVIEWS = ["The movie was REALLY good.", "terribly bad", "the movie", "awfully good, really really bad",
           "surreally odd, the 'really' kind; frightfully-made"]
WORD = re.compile(r"[\w']+")


def test_rate_one_redraws_every_intensifier_and_touches_nothing_else():
    texts = REVIEWS * 100
    swapped, changed = swap_intensifiers(texts, 1.0, seed=3)
    drawn, differences = [], 0
    for old, new in zip(texts, swapped):
        old_words, new_words = WORD.findall(old), WORD.findall(new)
        assert len(old_words) == len(new_words)
        assert WORD.sub("_", old) == WORD.sub("_", new)  # punctuation and spacing are kept
        for a, b in zip(old_words, new_words):
            if a.lower() in INTENSIFIERS:
                assert b in INTENSIFIERS
                drawn.append(b)
                differences += b != a.lower()
            else:
                assert b == a  # "surreally", "'really'" and "frightfully-made" are not whole intensifiers
    assert len(drawn) == 600 and min(drawn.count(w) for w in INTENSIFIERS) > 0.15 * len(drawn)
    assert changed == differences > 0


def test_the_swap_is_seeded_and_its_rate_is_respected():
    texts = REVIEWS * 400
    first, changed = swap_intensifiers(texts, 0.5, seed=7)
    again, _ = swap_intensifiers(texts, 0.5, seed=7)
    other, _ = swap_intensifiers(texts, 0.5, seed=8)
    assert first == again and first != other
    # 2,400 intensifiers, each redrawn with probability 0.5, then different with probability 3/4.
    assert 0.32 < changed / 2400 < 0.43
    assert swap_intensifiers(texts, 0.0) == (texts, 0)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        swap_intensifiers(texts, 1.5)


def test_the_setting_is_validated_and_round_trips():
    assert TrainConfig().intensifier_swap == 0.0
    with pytest.raises(ValueError, match="intensifier_swap.*probability"):
        TrainConfig(intensifier_swap=-0.1)
    config = Config().replace(intensifier_swap=0.5)
    assert Config.from_dict(json.loads(config.to_json())) == config


def test_training_swaps_the_labelled_and_unlabelled_reviews(tmp_path, capsys):
    data = tmp_path / "aclImdb"
    shutil.copytree(FIXTURE, data)
    for folder in ("train/pos", "train/neg", "train/unsup"):
        for review in (data / folder).glob("*.txt"):
            review.write_text("really terribly awfully " + review.read_text())
    config = Config.from_dict({
        "data": {"max_tokens": 100, "max_length": 40, "validation_fraction": 0.25},
        "model": {"units": 4, "embedding_dim": 8},
        "train": {"epochs": 1, "batch_size": 8, "teacher": "rnn+nbsvm", "intensifier_swap": 1.0},
    })
    out = tmp_path / "model"
    train(config, str(data), out, work_dir=tmp_path / "work", evaluate_test=False)
    log = capsys.readouterr().err
    training = int(re.search(r"intensifier swap: (\d+) words of the training reviews", log).group(1))
    unlabelled = int(re.search(r"intensifier swap: (\d+) words of the unlabelled reviews", log).group(1))
    assert training > 0 and unlabelled > 0
    # The vocabulary is adapted to the swapped text: "frightfully", in no fixture review, is in it.
    assert "frightfully" in load_classifier(out).model.get_layer("vectorizer").get_vocabulary()
    assert json.loads((out / "config.json").read_text())["train"]["intensifier_swap"] == 1.0
    assert np.isfinite(json.loads((out / "metrics.json").read_text())["validation"]["accuracy"])


def test_the_search_trials_learn_from_the_swapped_reviews(tmp_path, monkeypatch):
    import sentiment.intensifiers
    from conftest import tiny_overrides
    from training import tune

    calls = []

    def recording_swap(texts, rate, **kwargs):
        calls.append((len(texts), rate, kwargs))
        return swap_intensifiers(texts, rate, **kwargs)

    monkeypatch.setattr(sentiment.intensifiers, "swap_intensifiers", recording_swap)
    code = tune.main(["--data", str(FIXTURE), "--project", "swap", "--dir", str(tmp_path / "tuner"),
                      "--report-dir", str(tmp_path / "reports"), "--models-dir", str(tmp_path / "models"), "--quiet",
                      *tiny_overrides(epochs=1), "--algorithm", "random", "--max-trials", "1", "--max-epochs", "1",
                      "--no-export", "--intensifier-swap", "0.5"])
    assert code == 0
    # The search's own data (the retrained best model goes through train(), tested above).
    assert calls and calls[0][1] == 0.5 and calls[0][2] == {"seed": 1337}
