"""Intensifier swapping: a data augmentation that teaches a model that "terribly" can mean "very".

Degree adverbs such as "terribly" and "awfully" carry a negative literal meaning, but as
intensifiers ("terribly exciting") they only strengthen the word that follows. IMDB's training
reviews use "terribly" mostly with negative words ("terribly bad", "terribly written") and never
say "terribly exciting" as praise, so a model trained on them reads "terribly" as a negative word.
``swap_intensifiers`` replaces each intensifier of a training review, with probability ``rate``, by
one drawn at random from the same class, so each of them is seen in the others' contexts ("really
good" becomes "terribly good" in a positive review, "terribly bad" becomes "really bad" in a
negative one) while labels stay as they are: the sentiment is carried by the word they intensify.

The class comes from WordNet, not from the IMDB labels: the adverb synsets whose definition is
only "used as intensifiers" (or "intensifier"), keeping the one-word lemmas that WordNet lists as
adverbs only (a word that is also an adjective, such as "awful", "real" or "very" in "the very
end", need not be an intensifier where it occurs, and the swap works on tokens without a
part-of-speech tagger). :func:`wordnet_intensifiers` derives it from a WordNet 3.0 database
(Debian's ``wordnet-base`` package: ``/usr/share/wordnet``); ``INTENSIFIERS`` is its result, kept
here so that training needs no WordNet installed.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

INTENSIFIERS = ("awfully", "frightfully", "really", "terribly")
WORDNET_DIR = Path("/usr/share/wordnet")

# The first clause of the definition says only that the word intensifies.
_INTENSIFIER_ONLY = re.compile(r"^(used as (an )?intensifiers?|intensifier)\s*([;,]|$)")


def wordnet_intensifiers(wordnet_dir: str | Path = WORDNET_DIR) -> tuple[str, ...]:
    """The intensifier class, read from a WordNet 3.0 database folder (``data.adv``, ``index.*``)."""
    folder = Path(wordnet_dir)
    needed = [folder / name for name in ("data.adv", "index.noun", "index.verb", "index.adj")]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"not a WordNet 3.0 database folder: {', '.join(missing)} missing. "
                                "On Debian or Ubuntu: apt-get install wordnet-base (files in /usr/share/wordnet).")
    other_parts_of_speech = set()
    for name in ("index.noun", "index.verb", "index.adj"):
        with open(folder / name, encoding="utf-8") as lines:
            other_parts_of_speech.update(line.split(" ", 1)[0] for line in lines if not line.startswith("  "))
    found = set()
    with open(folder / "data.adv", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("  "):  # the licence header
                continue
            head, gloss = line.split(" | ", 1)
            fields = head.split()
            words = [fields[4 + 2 * i] for i in range(int(fields[3], 16))]
            definition = gloss.split('"', 1)[0].strip()
            if _INTENSIFIER_ONLY.match(definition):
                found.update(w.lower() for w in words if "_" not in w and w.lower() not in other_parts_of_speech)
    return tuple(sorted(found))


def swap_intensifiers(texts, rate: float, *, seed: int = 1337, words=INTENSIFIERS) -> tuple[list[str], int]:
    """``texts`` with each intensifier (a whole word of ``words``, any case) replaced, with probability
    ``rate``, by one of ``words`` drawn uniformly (possibly itself, written in lower case).

    Works on the raw text, so every consumer of the training text (vocabulary, word2vec, the
    recurrent model) sees the same reviews. Seeded, so a resumed run sees the same reviews.
    Returns ``(texts, swapped)``: the new texts and how many words changed.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"intensifier swap rate must be in [0, 1]; got {rate}")
    words = tuple(words)
    if rate == 0.0 or len(words) < 2:
        return list(texts), 0
    pattern = re.compile(r"(?<![\w'])(" + "|".join(map(re.escape, words)) + r")(?![\w'])", re.IGNORECASE)
    rng = np.random.default_rng(seed)
    swapped = 0

    def redraw(match: re.Match) -> str:
        nonlocal swapped
        if rng.random() >= rate:
            return match.group(0)
        new = words[int(rng.integers(len(words)))]
        swapped += new != match.group(0).lower()
        return new

    return [pattern.sub(redraw, text) for text in texts], swapped
