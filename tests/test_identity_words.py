"""Identity-word swapping: the WordNet-derived class, the capitalization test, the seeded swap, training."""

import json
import re
import shutil

import pytest

from conftest import FIXTURE
from sentiment.config import Config, TrainConfig
from sentiment.identity_words import (IDENTITY_WORDS, WORDNET_DIR, _wordnet_candidates, swap_identity_words,
                                      wordnet_identity_words)
from sentiment.training import train

# WordNet 3.0's format (offsets of the two roots are the real ones), enough to exercise each rule.
DATA_NOUN = """\
  1 This software and database is being provided to you, the LICENSEE, by Princeton University
09620078 18 n 01 inhabitant 0 003 ~ 09724785 n 0000 ~ 09725001 n 0000 ~i 09999999 n 0000 | a person who inhabits a particular place
09724785 18 n 01 Nigerian 0 001 @ 09620078 n 0000 | a native or inhabitant of Nigeria
09725001 18 n 02 Pole 0 New_Yorker 0 001 ~ 09725002 n 0000 | a native or inhabitant of Poland
09725002 18 n 01 Varsovian 0 000 | a native of Warsaw
09999999 18 n 01 Paul 0 000 | an apostle (an instance: a particular person, not a class)
09628382 18 n 01 religious_person 0 002 ~ 09682291 n 0000 ~ 09700000 n 0000 | a person who manifests devotion to a deity
09682291 18 n 02 Muslim 0 Moslem 0 000 | a believer in or follower of Islam
09700000 18 n 01 Slurword 0 001 ;u 06718862 n 0000 | (ethnic slur) offensive term
10000000 18 n 01 Frenchman 0 000 | a person from France, under neither root
08544813 15 n 01 country 0 002 ~ 08698379 n 0000 ~i 08953324 n 0000 | the territory occupied by a nation
08698379 15 n 01 African_country 0 001 ~i 08973776 n 0000 | any one of the countries occupying the African continent
08973776 15 n 01 Nigeria 0 000 | a republic in West Africa
08953324 15 n 01 France 0 000 | a republic in western Europe
"""
DATA_ADJ = """\
  1 This software and database is being provided to you, the LICENSEE, by Princeton University
03091081 01 a 01 Nigerian 0 001 \\ 09724785 n 0101 | of or relating to the people of Nigeria
02923511 01 s 01 Islamic 0 001 + 09682291 n 0101 | of or relating to Islam
02923999 01 a 01 Gallic 0 001 \\ 10000000 n 0101 | of a Frenchman (pertains to a noun under neither root)
03091308 01 a 01 Nigerien 1 001 \\ 08973776 n 0101 | of or relating to Nigeria (pertains to a country)
02958000 01 a 01 French 0 001 \\ 08953324 n 0101 | of or relating to France (pertains to a country)
"""


def mini_wordnet(folder):
    folder.mkdir()
    (folder / "data.noun").write_text(DATA_NOUN)
    (folder / "data.adj").write_text(DATA_ADJ)
    return folder


def test_the_candidates_are_class_hyponyms_of_the_two_roots_and_their_adjectives(tmp_path):
    # Not the instance ("Paul"), the slur (usage domain), the two-word lemma, or words under neither root
    # (the country nouns themselves are not people; their adjectives are).
    assert _wordnet_candidates(mini_wordnet(tmp_path / "wn")) == {"Nigerian", "Pole", "Varsovian", "Muslim",
                                                                  "Moslem", "Islamic", "Nigerien",
                                                                  "French"}


def test_the_reviews_must_capitalize_a_word_more_often_than_not(tmp_path):
    texts = ["We met a Nigerian family. Pole vaulting is dull, and the pole fell.",
             "the tent pole broke; a pole again; the Pole was kind", "Muslim friends, a muslim ceremony",
             "the Islamic art, the islamic calendar"]
    words = wordnet_identity_words(texts, mini_wordnet(tmp_path / "wn"))
    # "pole": 1 of 4 capitalized after a word ("Pole vaulting" opens a sentence and is not counted);
    # "muslim" 0 of 1 ("Muslim friends" opens its text); "Islamic" 1 of 2 is not more than half;
    # "Nigerian" 1 of 1; the others never occur, so they stay.
    assert words == ("French", "Moslem", "Nigerian", "Nigerien", "Varsovian")


def test_a_missing_wordnet_says_how_to_install_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install wordnet-base"):
        wordnet_identity_words([], tmp_path)


@pytest.mark.skipif(not (WORDNET_DIR / "data.noun").is_file(),
                    reason="WordNet is not installed (apt-get install wordnet-base)")
def test_the_shipped_class_follows_the_rule_on_the_real_wordnet():
    candidates = _wordnet_candidates(WORDNET_DIR)
    assert set(IDENTITY_WORDS) <= candidates and len(IDENTITY_WORDS) == 624
    assert {"Korean", "Mexican", "Christian", "Protestant", "Muslim", "Hindu", "Buddhist"} <= set(IDENTITY_WORDS)
    # Dropped by the capitalization test on the IMDB reviews (recomputing it needs the 72,500 reviews).
    assert {"Pole", "Goth", "Lesbian"} <= candidates and not {"Pole", "Goth", "Lesbian"} & set(IDENTITY_WORDS)


def test_the_swap_redraws_identity_words_within_the_class_and_leaves_the_rest():
    texts = ["A Korean family and a Catholic priest.", "Koreans? korean food, Koreanness."] * 200
    swapped, changed = swap_identity_words(texts, 1.0, seed=3)
    # 600 matches ("Korean" and "Catholic" in 200 texts, lowercase "korean" in 200), each redrawn
    # among 624 words, so about one in 624 draws itself back.
    assert 590 <= changed <= 600
    lower = {w.lower() for w in IDENTITY_WORDS}
    for before, after in zip(texts, swapped):
        pattern = re.escape(before).replace("Korean", r"(\w+)", 1).replace("Catholic", r"(\w+)", 1)
        if before.startswith("A "):
            assert all(w.lower() in lower for w in re.fullmatch(pattern, after).groups())
        else:  # "Koreans" and "Koreanness" are other words; only the whole "korean" is swapped
            assert after.startswith("Koreans? ") and after.endswith(" food, Koreanness.")
    assert swap_identity_words(texts, 1.0, seed=3) == (swapped, changed)
    assert swap_identity_words(texts, 0.0) == (texts, 0)
    with pytest.raises(ValueError, match="identity word swap rate must be in"):
        swap_identity_words(texts, 2.0)


def test_the_setting_is_validated_and_round_trips():
    assert TrainConfig().identity_swap == 0.0
    with pytest.raises(ValueError, match="identity_swap.*probability"):
        TrainConfig(identity_swap=1.5)
    config = Config().replace(identity_swap=1.0)
    assert Config.from_dict(json.loads(config.to_json())) == config


def test_training_swaps_identity_words_in_the_labelled_and_unlabelled_reviews(tmp_path, capsys):
    data = tmp_path / "aclImdb"
    shutil.copytree(FIXTURE, data)
    for folder in ("train/pos", "train/neg", "train/unsup"):
        for review in (data / folder).glob("*.txt"):
            review.write_text("The Korean and the Mexican cast. " + review.read_text())
    config = Config.from_dict({
        "data": {"max_tokens": 100, "max_length": 40, "validation_fraction": 0.25},
        "model": {"units": 4, "embedding_dim": 8},
        "train": {"epochs": 1, "batch_size": 8, "teacher": "rnn+nbsvm", "identity_swap": 1.0},
    })
    train(config, str(data), tmp_path / "model", work_dir=tmp_path / "work", evaluate_test=False)
    log = capsys.readouterr().err
    for split in ("training", "unlabelled"):
        assert int(re.search(rf"identity word swap: (\d+) words of the {split} reviews", log).group(1)) > 0
    assert "intensifier swap" not in log
    assert json.loads((tmp_path / "model" / "config.json").read_text())["train"]["identity_swap"] == 1.0
