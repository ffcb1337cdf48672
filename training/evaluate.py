"""Evaluate a saved model on an IMDB split or on a labelled file; prints one JSON object.

    python -m training.evaluate --model saved_models/default --data ../shared/data/aclImdb_v1.tar.gz
    python -m training.evaluate --model saved_models/default --file my_reviews.tsv

A labelled file is TSV (label, a tab, the text; labels 0/1 or neg/pos) or, for *.csv, CSV with
text/review and label/sentiment columns.
"""

from __future__ import annotations

import argparse
import sys
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="model folder")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", help="'tfds', an aclImdb folder or aclImdb_v1.tar.gz")
    source.add_argument("--file", help="a labelled TSV or CSV file of your own")
    parser.add_argument("--split", default="test", choices=["test", "validation", "train"],
                        help="with --data: which split (default: test; validation is the model's own held-out part of train)")
    parser.add_argument("--max-samples", type=int, help="evaluate a seeded random subset of this size")
    parser.add_argument("--batch-size", type=int, default=32, help="texts per model call, sorted by length (default: 32)")
    parser.add_argument("--tfds-data-dir", help="tensorflow-datasets data_dir")
    args = parser.parse_args(argv)
    if not args.data and not args.file:
        parser.error("give --data (an IMDB source) or --file (a labelled file)")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.max_samples is not None and args.max_samples < 1:
        parser.error(f"--max-samples must be >= 1, got {args.max_samples}")

    from sentiment.cli import print_json
    from sentiment.data import DataError, load_split
    from sentiment.files import FileFormatError, read_labelled_file
    from sentiment.metrics import binary_metrics
    from sentiment.model_folder import ModelLoadError, load_classifier

    try:
        classifier = load_classifier(args.model)
        if args.file:
            reviews = read_labelled_file(args.file)
            if args.max_samples and args.max_samples < len(reviews):
                import numpy as np

                reviews = reviews.take(np.sort(np.random.default_rng(1337).permutation(len(reviews))[: args.max_samples]))
        else:
            data_config = classifier.config.get("data", {})
            reviews = load_split(
                args.data, args.split, max_samples=args.max_samples, tfds_data_dir=args.tfds_data_dir,
                validation_fraction=data_config.get("validation_fraction", 0.1), seed=data_config.get("seed", 1337),
            )
    except (ModelLoadError, DataError, FileFormatError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    scores = classifier.predict(reviews.texts, batch_size=args.batch_size)
    result = binary_metrics(reviews.labels, scores)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["model"] = str(args.model)
    result["source"] = args.file or f"{args.data}:{args.split}"
    print_json(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
