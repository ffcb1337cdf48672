"""What the models make of sentences: a capability table, models side by side with a TF-IDF baseline.

    python -m benchmarks.sentences --model saved_models/default --model saved_models/fast

Reads the project's own sentence suite (``benchmarks/sentence_suite.tsv``: ``capability<TAB>expected<TAB>text``,
written before the runs it judges) and adds sentence-level slices of IMDB itself, taken from the
validation part of the train split (never the test split): the first and the last sentence of each
validation review, labelled as their review, and the shortest validation reviews whole; and each
first sentence again with one seeded typo (two neighbouring characters swapped, as CheckList's
``add_typos`` does), scored by accuracy and by how often the typo changes the label.

- A labelled capability (``expected`` is ``pos`` or ``neg``) is scored by accuracy.
- An invariance capability (``expected`` is ``=GROUP``: the same sentence with only a name, place,
  number, identity word or trailing URL/handle changed) is scored by its failure rate: the share of
  groups whose members do not all get the same label. ``spread`` is the mean, over groups, of the
  largest minus the smallest P(positive) in the group.

Every model after the first (and the baseline) is also compared with the first sentence by
sentence: how many sentences of each labelled capability it gains and loses, and the exact McNemar
p-value of that split, so that a change of one or two sentences is not read as a capability moving.

The baseline is a TF-IDF 1-2-gram logistic regression fitted on the same training reviews (the
train split less its validation part). The table goes to ``benchmarks/results/sentences.md`` and the
figures to ``sentences.json`` beside it.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "benchmarks" / "sentence_suite.tsv"
SHORTEST_REVIEWS = 250
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


class SuiteError(ValueError):
    """The suite file is malformed; the message names the line."""


def read_suite(path: Path) -> list[tuple[str, str, str]]:
    """``(capability, expected, text)`` rows; ``expected`` is ``pos``, ``neg`` or ``=GROUP``."""
    from sentiment.files import decode_utf8, split_lines

    rows = []
    for number, line in enumerate(split_lines(decode_utf8(Path(path).read_bytes(), str(path))), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(f.strip() for f in fields):
            raise SuiteError(f"{path}, line {number}: expected capability<TAB>expected<TAB>text, got {line[:80]!r}")
        capability, expected, text = (f.strip() for f in fields)
        if expected not in ("pos", "neg") and not (expected.startswith("=") and len(expected) > 1):
            raise SuiteError(f"{path}, line {number}: expected is {expected!r}; use pos, neg or =GROUP (an invariance group)")
        rows.append((capability, expected, text))
    if not rows:
        raise SuiteError(f"{path}: no examples")
    return rows


def review_sentences(text: str) -> list[str]:
    """A review's sentences: split at its HTML line breaks, then after ``.``, ``!`` or ``?`` before a capital."""
    paragraphs = re.split(r"(?:<br\s*/?>\s*)+", text)
    return [s for paragraph in paragraphs for s in _SENTENCE_END.split(paragraph.strip()) if s]


def imdb_slices(data: str, seed: int = 1337, validation_fraction: float = 0.1) -> list[tuple[str, str, str]]:
    """First and last sentences of the validation reviews, and the shortest validation reviews, labelled as their review."""
    from sentiment.data import load_split
    from sentiment.labels import LABELS

    reviews = load_split(data, "validation", seed=seed, validation_fraction=validation_fraction)
    rows = []
    for text, label in zip(reviews.texts, reviews.labels):
        sentences = [s for s in review_sentences(text) if len(s.split()) >= 3]
        if sentences:
            rows.append(("imdb_first_sentence", LABELS[int(label)], sentences[0]))
            rows.append(("imdb_last_sentence", LABELS[int(label)], sentences[-1]))
    shortest = np.argsort([len(t.split()) for t in reviews.texts], kind="stable")[:SHORTEST_REVIEWS]
    rows += [("imdb_short_review", LABELS[int(reviews.labels[i])], reviews.texts[i]) for i in shortest]
    return rows + typo_rows([r for r in rows if r[0] == "imdb_first_sentence"], seed)


def add_typo(text: str, rng: np.random.Generator) -> str:
    """``text`` with two neighbouring characters swapped at a random place (CheckList's ``add_typos``)."""
    at = int(rng.integers(len(text) - 1))
    return text[:at] + text[at + 1] + text[at] + text[at + 2 :]


def typo_rows(first_sentences: list[tuple[str, str, str]], seed: int) -> list[tuple[str, str, str]]:
    """Each first sentence with one seeded typo (``imdb_typo_sentence``, labelled as its review), and the
    pair of it and its clean form as an invariance group (``imdb_typo_invariance``: the label must not move)."""
    rng = np.random.default_rng(seed)
    typos = [(label, add_typo(text, rng), text) for _, label, text in first_sentences]
    rows = [("imdb_typo_sentence", label, typo) for label, typo, _ in typos]
    for number, (_, typo, text) in enumerate(typos):
        rows += [("imdb_typo_invariance", f"=typo{number}", text), ("imdb_typo_invariance", f"=typo{number}", typo)]
    return rows


def tfidf_baseline(data: str, seed: int = 1337, validation_fraction: float = 0.1):
    """P(positive) of a TF-IDF 1-2-gram logistic regression fitted on the training reviews (validation held out)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sentiment.data import load_split
    from sentiment.nbsvm import clean_texts

    train = load_split(data, "train", seed=seed, validation_fraction=validation_fraction)
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True),
                          LogisticRegression(C=4.0, max_iter=2000, solver="liblinear"))
    model.fit(clean_texts(train.texts), train.labels)
    return lambda texts: model.predict_proba(clean_texts(list(texts)))[:, 1]


def score(rows: list[tuple[str, str, str]], probabilities) -> dict[str, dict]:
    """Per capability: ``accuracy`` (labelled) or ``failure`` and ``spread`` (invariance groups), and ``n``."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    result: dict[str, dict] = {}
    for capability in dict.fromkeys(c for c, _, _ in rows):
        index = [i for i, (c, _, _) in enumerate(rows) if c == capability]
        if rows[index[0]][1].startswith("="):
            groups: dict[str, list[float]] = {}
            for i in index:
                groups.setdefault(rows[i][1], []).append(p[i])
            members = [np.asarray(g) for g in groups.values()]
            result[capability] = {"n": len(members),
                                  "failure": float(np.mean([len(set(g >= 0.5)) > 1 for g in members])),
                                  "spread": float(np.mean([g.max() - g.min() for g in members]))}
        else:
            right = [(p[i] >= 0.5) == (rows[i][1] == "pos") for i in index]
            result[capability] = {"n": len(index), "accuracy": float(np.mean(right))}
    return result


def summarize(scores: dict[str, dict]) -> dict[str, float]:
    """Mean accuracy of the suite's labelled capabilities, and mean failure of its invariance ones (IMDB slices apart)."""
    suite = {k: v for k, v in scores.items() if not k.startswith("imdb_")}
    labelled = [v["accuracy"] for v in suite.values() if "accuracy" in v]
    invariance = [v["failure"] for v in suite.values() if "failure" in v]
    return {"suite_accuracy": float(np.mean(labelled)) if labelled else float("nan"),
            "invariance_failure": float(np.mean(invariance)) if invariance else float("nan")}


def paired_changes(rows: list[tuple[str, str, str]], reference, other) -> dict[str, dict]:
    """Per labelled capability, the sentences ``other`` gets right that ``reference`` gets wrong
    (``gained``) and the reverse (``lost``), with the exact two-sided McNemar p-value of that split.

    Two models are scored on the same sentences, so their difference is in these discordant pairs; a
    capability of 25 sentences moves 4 points a sentence, and p says how often a split this uneven
    comes from two equally good models.
    """
    p, q = np.asarray(reference, dtype=np.float64).reshape(-1), np.asarray(other, dtype=np.float64).reshape(-1)
    result: dict[str, dict] = {}
    for capability in dict.fromkeys(c for c, e, _ in rows if not e.startswith("=")):
        index = [i for i, (c, _, _) in enumerate(rows) if c == capability]
        truth = np.array([rows[i][1] == "pos" for i in index])
        before, after = (p[index] >= 0.5) == truth, (q[index] >= 0.5) == truth
        gained, lost = int(np.sum(after & ~before)), int(np.sum(before & ~after))
        tail = sum(math.comb(gained + lost, k) for k in range(min(gained, lost) + 1)) / 2 ** (gained + lost)  # exact ints: no overflow past 1,023 pairs
        result[capability] = {"gained": gained, "lost": lost, "p": min(1.0, 2 * tail)}
    return result


def markdown(results: dict[str, dict], command: str) -> str:
    systems = list(results)
    lines = [f"Command: `{command}`. Accuracy for labelled capabilities; for invariance groups the failure rate "
             "(share of groups whose members do not all get one label) and, in brackets, the mean spread of P(positive).",
             "", "| capability | n | " + " | ".join(systems) + " |", "|---|---|" + "---|" * len(systems)]
    capabilities = list(dict.fromkeys(c for r in results.values() for c in r["capabilities"]))
    for capability in capabilities:
        cells = []
        for system in systems:
            value = results[system]["capabilities"].get(capability)
            cells.append("" if value is None else f"{value['accuracy']:.3f}" if "accuracy" in value
                         else f"{value['failure']:.0%} fail ({value['spread']:.2f})")
        n = next(r["capabilities"][capability]["n"] for r in results.values() if capability in r["capabilities"])
        lines.append(f"| {capability} | {n} | " + " | ".join(cells) + " |")
    for key, label in (("suite_accuracy", "**suite: mean accuracy**"), ("invariance_failure", "**suite: mean invariance failure**")):
        values = [results[s]["summary"][key] for s in systems]
        lines.append(f"| {label} | | " + " | ".join(f"{v:.3f}" if key == "suite_accuracy" else f"{v:.0%}" for v in values) + " |")
    others = [s for s in systems if "paired" in results[s]]
    if others:
        lines += ["", f"Paired against {systems[0]}: sentences gained / lost (now right / now wrong) and the exact "
                  "McNemar p of that split (above 0.05: a split this uneven is common between two equally good models).",
                  "", "| capability | " + " | ".join(others) + " |", "|---|" + "---|" * len(others)]
        for capability in results[others[0]]["paired"]:
            cells = [results[s]["paired"][capability] for s in others]
            lines.append(f"| {capability} | " + " | ".join(f"+{c['gained']} / -{c['lost']} (p {c['p']:.2f})"
                                                         for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sentences", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", required=True, help="a model folder; repeat to compare side by side")
    parser.add_argument("--suite", type=Path, default=SUITE, help="the sentence suite (default: benchmarks/sentence_suite.tsv)")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "aclImdb_v1.tar.gz"),
                        help="IMDB source for the slices and the baseline; 'none' leaves both out")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "sentences.md")
    args = parser.parse_args(argv)

    from sentiment.cli import command_line
    from sentiment.data import DataError
    from sentiment.model_folder import ModelLoadError, load_classifier

    try:
        rows = read_suite(args.suite)
        classifiers = {Path(m).name: load_classifier(m) for m in args.model}
        baseline = None
        if args.data != "none":
            rows += imdb_slices(args.data)
            baseline = tfidf_baseline(args.data)
    except (OSError, SuiteError, DataError, ModelLoadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if len(classifiers) != len(args.model):
        parser.error("two --model folders share a name; compare folders with distinct names")
    texts = [text for _, _, text in rows]
    predictors = {name: c.predict for name, c in classifiers.items()} | ({"tfidf-lr": baseline} if baseline else {})
    results, probabilities = {}, {}
    for name, predict in predictors.items():
        probabilities[name] = predict(texts)
        scores = score(rows, probabilities[name])
        results[name] = {"capabilities": scores, "summary": summarize(scores)}
    reference = next(iter(probabilities))
    for name in list(results)[1:]:
        results[name]["paired"] = paired_changes(rows, probabilities[reference], probabilities[name])
    table = markdown(results, command_line("benchmarks.sentences", argv))
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
