"""IMDB side by side: linear baselines, the Keras example, the project's recipe, and batching throughput.

    python -m benchmarks.imdb --data ../shared/data/aclImdb_v1.tar.gz

Runs, one after another on this machine and on the same data (the seeded 90% of the official
train split to fit, its 10% for validation and model selection, the official 25,000-review
test split evaluated once per system):

1. TF-IDF (1-2 grams) + logistic regression;
2. NBSVM-style: naive-Bayes log-count-ratio weighted binary 1-3 grams + logistic regression
   (Wang & Manning 2012);
3. the Keras example "Bidirectional LSTM on IMDB": Embedding 20k x 128, 2 x BiLSTM(64), the
   first 200 tokens, batch 32, 2 epochs, built by the project's builder;
4. the project's default recipe (``training/configs/default.json``), trained from scratch
   (``--reuse-default DIR`` reads a model folder's recorded figures instead, and says so);
5. training throughput: the Keras example's architecture and batch size on reviews cut at 800
   tokens, every batch padded to 800 vs the project's length-bucketed batches, 2 epochs each.

The regularization strength C of the linear models is chosen on the validation split.
Prints a Markdown table and writes it (and the raw figures as JSON) to ``benchmarks/results/``.
Needs scikit-learn (``requirements-bench.txt``).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import platform
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

KERAS_EXAMPLE = {  # keras.io/examples/nlp/bidirectional_lstm_imdb
    "max_tokens": 20000, "max_length": 200, "cell": "lstm", "num_layers": 2, "units": 64, "bidirectional": True,
    "embedding_dim": 128, "pooling": "last", "dropout": 0.0, "embedding_dropout": 0.0, "learning_rate": 1e-3,
    "batch_size": 32, "epochs": 2, "patience": 2, "batching": "fixed", "word_vectors": "none",
}


def linear_baselines(train, val, test) -> list[dict]:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from sentiment.nbsvm import clean_texts

    train_x, val_x, test_x = clean_texts(train.texts), clean_texts(val.texts), clean_texts(test.texts)
    results = []

    def fit(name, make_features, transform):
        started = time.perf_counter()
        features = make_features(train_x)
        best = None
        for c in (0.25, 1.0, 4.0, 16.0):
            model = LogisticRegression(C=c, max_iter=2000, solver="liblinear")
            model.fit(features, train.labels)
            score = model.score(transform(val_x), val.labels)
            if best is None or score > best[0]:
                best = (score, c, model)
        fit_seconds = time.perf_counter() - started
        score, c, model = best
        started = time.perf_counter()
        accuracy = float(np.mean(model.predict(transform(test_x)) == test.labels))
        inference = max(time.perf_counter() - started, 1e-9)  # a divisor, never 0
        results.append({"system": name, "test_accuracy": accuracy, "validation_accuracy": float(score),
                        "training_seconds": fit_seconds, "seconds_per_epoch": None,
                        "reviews_per_second": len(test_x) / inference, "note": f"C={c} (chosen on validation)"})
        print(f"{name}: test {accuracy:.4f}, validation {score:.4f}, {fit_seconds:.0f} s", flush=True)

    tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True, token_pattern=r"\S+")
    fit("TF-IDF 1-2 grams + logistic regression", tfidf.fit_transform, tfidf.transform)

    counts = CountVectorizer(ngram_range=(1, 3), min_df=2, binary=True, token_pattern=r"\S+")
    ratio = {}

    def nb_features(texts):
        x = counts.fit_transform(texts)
        labels = np.asarray(train.labels)
        p = np.asarray(x[labels == 1].sum(axis=0)).ravel() + 1.0
        q = np.asarray(x[labels == 0].sum(axis=0)).ravel() + 1.0
        ratio["r"] = np.log((p / p.sum()) / (q / q.sum()))
        return x.multiply(ratio["r"]).tocsr()

    def nb_transform(texts):
        return counts.transform(texts).multiply(ratio["r"]).tocsr()

    fit("NBSVM-style NB-weighted 1-3 grams + logistic regression", nb_features, nb_transform)
    return results


def recurrent(name, config, data, folder: Path, note="", restart: bool = False) -> dict:
    from sentiment.training import train

    out = folder / name.replace(" ", "_").replace("/", "_")
    started = time.perf_counter()
    metrics = train(config, data, out, work_dir=folder / f"work-{out.name}", verbose=1, restart=restart)
    wall = time.perf_counter() - started
    result = {"system": name, **figures(metrics), "wall_seconds": wall, "note": note, "model": str(out)}
    print(f"{name}: test {result['test_accuracy']:.4f}, {result['training_seconds']:.0f} s of training", flush=True)
    return result


def reused(folder: Path, system: str | None = None, option: str = "--reuse-default") -> dict:
    metrics = json.loads((folder / "metrics.json").read_text())
    return {
        "system": system or f"project default recipe ({folder})", **figures(metrics),
        "note": f"figures recorded when this model was trained ({option}), not retrained in this run",
    }


def figures(metrics: dict) -> dict:
    """A row's figures from a model's ``metrics.json``. A distilled model's training seconds include its
    teacher's (RNN epochs, NBSVM, labelling); seconds per epoch are the model's own epochs."""
    teacher_seconds = (metrics.get("teacher") or {}).get("seconds", 0.0)
    training = at_least(metrics["training_seconds"], resolution=0.1)
    return {
        "test_accuracy": metrics["test"]["accuracy"], "validation_accuracy": metrics["validation"]["accuracy"],
        "training_seconds": metrics["training_seconds"] + teacher_seconds,
        "seconds_per_epoch": training / metrics["epochs"], "epochs": metrics["epochs"],
        "reviews_per_second": metrics["test"]["n"] / at_least(metrics["test"]["seconds"], resolution=0.01),
    }


def at_least(seconds: float, resolution: float) -> float:
    """A duration that ``metrics.json`` recorded to ``resolution`` seconds, as a safe divisor.

    A tiny run (16 fixture reviews) can be recorded as 0; it took under half the resolution, so
    that half is used: rates computed from it are lower bounds, never a division by zero.
    """
    return max(float(seconds), resolution / 2)


def training_tokens(model_folder: str, texts, max_length: int) -> int:
    """Real (unpadded) tokens the training split feeds per epoch, cut at ``max_length``."""
    from sentiment.model_folder import load_classifier
    from sentiment.pipeline import vectorize

    vectorizer = load_classifier(model_folder).model.get_layer("vectorizer")
    return int(np.sum(vectorize(texts, vectorizer, max_length).row_lengths().numpy()))


def markdown(results: list[dict], throughput: list[dict], args) -> str:
    def num(value, digits=1):
        return "-" if value is None else f"{value:,.{digits}f}"

    lines = [
        f"IMDB benchmark, {datetime.date.today().isoformat()}, {platform.machine()} with {os.cpu_count()} cores, "
        "no GPU. Fit on the seeded 90% of the official train split (validation: the other 10%); "
        "test accuracy on the official 25,000-review test split, evaluated once per system.",
        "",
        "| system | test accuracy | validation accuracy | training seconds | seconds per epoch | reviews/s at inference | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['system']} | {r['test_accuracy']:.4f} | {r['validation_accuracy']:.4f} | "
                     f"{num(r['training_seconds'], 0)} | {num(r['seconds_per_epoch'], 0)} | "
                     f"{num(r['reviews_per_second'], 0)} | {r.get('note', '')} |")
    if throughput:
        lines += [
            "",
            "Training throughput, the Keras example's architecture and batch size (32), reviews cut at 800 tokens, "
            f"{throughput[0]['epochs']} epochs each:",
            "",
            "| batching | seconds per epoch | real tokens/s | validation accuracy | test accuracy |",
            "|---|---|---|---|---|",
        ]
        for r in throughput:
            lines.append(f"| {r['batching']} | {r['seconds_per_epoch']:.0f} | {r['tokens_per_second']:,.0f} | "
                         f"{r['validation_accuracy']:.4f} | {r['test_accuracy']:.4f} |")
        fixed, bucket = (next(r for r in throughput if r["batching"] == b) for b in ("fixed", "bucket"))
        lines += ["", f"Bucketed batches train an epoch {fixed['seconds_per_epoch'] / bucket['seconds_per_epoch']:.2f}x "
                      f"faster than padding every batch to 800 tokens; validation accuracy differs by "
                      f"{abs(fixed['validation_accuracy'] - bucket['validation_accuracy']) * 100:.2f} points."]
    lines += ["", f"Command: `python -m benchmarks.imdb {' '.join(args)}`"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.imdb", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="aclImdb folder, aclImdb_v1.tar.gz, or tfds")
    parser.add_argument("--reuse-default", metavar="DIR",
                        help="read the default recipe's figures from this model folder instead of training it")
    parser.add_argument("--also", action="append", default=[], metavar="DIR",
                        help="add a row for another trained model folder, from its recorded figures (repeatable)")
    parser.add_argument("--skip", action="append", default=[], choices=["linear", "keras-example", "default", "throughput"],
                        help="leave a part out (repeatable)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key in every recurrent run (smoke tests: --set units=4)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "imdb.md"))
    parser.add_argument("--work", help="folder for the benchmark's models (default: a temporary folder)")
    parser.add_argument("--restart", action="store_true",
                        help="discard interrupted runs of other options left in --work (a rerun with the same options resumes them)")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv

    from sentiment.data import DataError
    from sentiment.runs import TrainingError

    try:
        return run(args, argv)
    except (DataError, TrainingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def run(args, argv) -> int:
    from sentiment.config import Config
    from sentiment.data import load_split

    overrides = dict(item.split("=", 1) for item in args.set)
    recurrent_run = functools.partial(recurrent, restart=args.restart)
    results, throughput = [], []
    with tempfile.TemporaryDirectory(prefix="imdb-benchmark-") as temporary:
        folder = Path(args.work or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        if "linear" not in args.skip:
            train, val = load_split(args.data, "train"), load_split(args.data, "validation")
            test = load_split(args.data, "test")
            results += linear_baselines(train, val, test)
        example = Config().replace(**(KERAS_EXAMPLE | overrides))
        if "keras-example" not in args.skip:
            results.append(recurrent_run("Keras example: 2 x BiLSTM(64), first 200 tokens", example, args.data, folder,
                                     f"{example.train.epochs} epochs, every batch padded to {example.data.max_length}"))
        if "default" not in args.skip:
            if args.reuse_default:
                results.append(reused(Path(args.reuse_default)))
            else:
                recipe = Config.from_json(ROOT / "training" / "configs" / "default.json").replace(**overrides)
                results.append(recurrent_run("project default recipe (training/configs/default.json)", recipe,
                                         args.data, folder, "trained in this run"))
        for extra in args.also:
            results.append(reused(Path(extra), f"{Path(extra).name} ({Path(extra)})", "--also"))
        if "throughput" not in args.skip:
            texts = load_split(args.data, "train").texts
            for batching in ("fixed", "bucket"):
                config = example.replace(max_length=800, batching=batching)  # --set cannot change what is compared
                result = recurrent_run(f"800 tokens {batching}", config, args.data, folder)
                tokens = training_tokens(result["model"], texts, config.data.max_length)
                throughput.append({"batching": batching, "tokens_per_epoch": tokens,
                                   "tokens_per_second": tokens / result["seconds_per_epoch"], **result})
    table = markdown(results, throughput, argv)
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    out.with_suffix(".json").write_text(json.dumps({"systems": results, "throughput": throughput}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
