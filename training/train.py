"""Train a sentiment classifier and save it as a model folder.

Example (the shipped default model):

    python -m training.train --config training/configs/default.json \
        --data ../shared/data/aclImdb_v1.tar.gz --out saved_models/default

Rerunning the same command after a kill resumes from the last completed epoch.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    from sentiment.cli import add_config_arguments

    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="tfds",
                        help="'tfds' (tensorflow-datasets imdb_reviews, downloads when online), an aclImdb folder, or aclImdb_v1.tar.gz (default: tfds)")
    parser.add_argument("--out", required=True, help="model folder to write, e.g. saved_models/NAME (replaced atomically)")
    parser.add_argument("--work-dir", help="backup, logs and vocabulary of the run (default: ~/.cache/sentiment/runs/NAME-HASH, outside the repository)")
    parser.add_argument("--restart", action="store_true",
                        help="discard an interrupted run of a different command left in the work folder (without it, "
                             "such a run is kept and this command stops, naming what differs)")
    parser.add_argument("--no-test", action="store_true", help="skip the final test-split evaluation (smoke runs)")
    parser.add_argument("--tfds-data-dir", help="tensorflow-datasets data_dir (default: ~/tensorflow_datasets)")
    parser.add_argument("--no-download", action="store_true", help="with --data tfds: use only prepared data, never download")
    parser.add_argument("--strategy", choices=["default", "mirrored", "multi_worker"], default="default",
                        help="tf.distribute: one device; MirroredStrategy (synchronous over all local GPUs); or "
                             "MultiWorkerMirroredStrategy across machines (run the same command on every worker, "
                             "each with its TF_CONFIG; worker 0 writes the model)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_arguments(parser)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from sentiment.cli import command_line, config_from_args, print_json

    config = config_from_args(args, parser)
    from sentiment.data import DataError
    from sentiment.training import TrainingError, train

    try:
        metrics = train(
            config, args.data, args.out, work_dir=args.work_dir, evaluate_test=not args.no_test,
            tfds_data_dir=args.tfds_data_dir, download=not args.no_download,
            command=command_line("training.train", argv), verbose=0 if args.quiet else 1, strategy=args.strategy,
            restart=args.restart,
        )
    except (DataError, TrainingError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print_json({k: metrics[k] for k in ("epochs", "best_epoch", "training_seconds", "parameters")} |
               {"validation_accuracy": metrics["validation"]["accuracy"],
                "test_accuracy": metrics["test"]["accuracy"] if metrics["test"] else None, "out": args.out})
    return 0


if __name__ == "__main__":
    sys.exit(main())
