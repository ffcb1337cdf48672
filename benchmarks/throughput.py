"""Batched inference throughput of several model folders, side by side in one process.

    python -m benchmarks.throughput saved_models/default saved_models/fast --data ../shared/data/aclImdb_v1.tar.gz

Each model is loaded as the server loads it (``load_classifier(..., compiled=True)``) and warmed up
until every shape is compiled; then passes over the same 64-review batches of real test reviews
take turns, model after model, and the median reviews per second of each is printed with its ratio
to the first model's (and written to ``--out``). Taking turns keeps a shared, noisy machine's drift
out of the ratios.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="model folders (the first is the reference of the ratios)")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "aclImdb_v1.tar.gz"),
                        help="aclImdb folder or archive (its test split supplies the reviews)")
    parser.add_argument("--batches", type=int, default=40, help="64-review batches per pass")
    parser.add_argument("--passes", type=int, default=5, help="timed passes per model (the median is reported)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "throughput.md"))
    args = parser.parse_args(argv)
    if args.batches < 1 or args.passes < 1:
        parser.error("--batches and --passes must be >= 1")
    if len({Path(m).resolve() for m in args.models}) != len(args.models):
        parser.error("a model folder is given twice: name each model once")

    from sentiment.data import DataError, load_split
    from sentiment.model_folder import MODEL_FILE, ModelLoadError, load_classifier

    for folder in args.models:  # a wrong path fails here, before minutes of warm-up on the others
        if not (Path(folder) / MODEL_FILE).is_file():
            parser.error(f"{folder} is not a model folder (no {MODEL_FILE}): give folders written by python -m training.train")

    try:
        reviews = load_split(args.data, "test", max_samples=64 * args.batches).texts
    except DataError as err:
        parser.error(f"{err} Pass --data PATH.")
    batches = [reviews[i : i + 64] for i in range(0, len(reviews), 64)]
    classifiers = {}
    try:
        for folder in args.models:
            try:
                classifier = load_classifier(folder, compiled=True)
            except ModelLoadError as err:
                parser.error(str(err))
            classifiers[folder] = classifier
            for batch in batches:  # warm-up: every shape of the measurement
                classifier.predict(batch)
            classifier.wait_until_compiled()
        rates = {folder: [] for folder in classifiers}
        for _ in range(args.passes):
            for folder, classifier in classifiers.items():
                started = time.perf_counter()
                for batch in batches:
                    classifier.predict(batch)
                rates[folder].append(len(reviews) / (time.perf_counter() - started))
        compiled = {folder: classifier.compiled for folder, classifier in classifiers.items()}  # before close()
    finally:
        for classifier in classifiers.values():
            classifier.close()
    medians = {folder: float(np.median(r)) for folder, r in rates.items()}
    reference = medians[args.models[0]]
    lines = [f"Throughput, {datetime.date.today()}, {platform.machine()} with {os.cpu_count()} cores: {len(reviews)} "
             f"test reviews in 64-review batches, loaded as the server loads them, median of {args.passes} passes taking turns.",
             "", "| model | units | test accuracy | XLA-compiled | reviews/s (median) | passes | vs first |",
             "|---|---|---|---|---|---|---|"]
    for folder, classifier in classifiers.items():
        units = classifier.config.get("model", {}).get("units", "")
        accuracy = classifier.metrics.get("test", {}).get("accuracy")
        passes = ", ".join(f"{r:.0f}" for r in rates[folder])
        lines.append(f"| `{folder}` | {units} | {accuracy if accuracy is not None else '-'} | "
                     f"{'yes' if compiled[folder] else 'no (graph)'} | {medians[folder]:.0f} | "
                     f"{passes} | {medians[folder] / reference:.2f}x |")
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
