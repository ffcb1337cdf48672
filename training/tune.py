"""Search architectures with keras-tuner, then retrain the best and save it as a model folder.

    python -m training.tune --algorithm bayesian --max-trials 10 --max-epochs 2 \
        --data ../shared/data/aclImdb_v1.tar.gz --project imdb --max-train-samples 4000 --max-length 400

Rerunning the same command after a kill resumes the search: finished trials are kept, the
interrupted one is retried (``--overwrite`` starts over). Trials see only the validation split;
the test split is evaluated once, on the retrained best model. Output: a leaderboard
(``reports/tuning/PROJECT/leaderboard.{csv,md}``) and ``saved_models/tuned-PROJECT/``.

Distributed: run the same command on every machine with ``KERASTUNER_ORACLE_IP``,
``KERASTUNER_ORACLE_PORT`` and ``KERASTUNER_TUNER_ID`` (``chief`` on one, ``tuner0``, ``tuner1``,
... on the workers). The chief serves the search over unauthenticated gRPC: bind it to a private
network only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_parser() -> argparse.ArgumentParser:
    from sentiment.cli import add_config_arguments
    from sentiment.data import cache_dir
    from sentiment.tuning import ALGORITHMS

    parser = argparse.ArgumentParser(prog="python -m training.tune", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algorithm", choices=ALGORITHMS, default="bayesian")
    parser.add_argument("--max-trials", type=int, default=10, help="trials for bayesian/random (default: 10)")
    parser.add_argument("--max-epochs", type=int, default=2, help="epochs per trial (hyperband: the largest bracket)")
    parser.add_argument("--data", default="tfds", help="'tfds', an aclImdb folder or aclImdb_v1.tar.gz")
    parser.add_argument("--project", required=True, help="name of the search (tuner folder, report and model names)")
    parser.add_argument("--dir", default=str(cache_dir() / "tuner"),
                        help="where keras-tuner keeps its trials (default: ~/.cache/sentiment/tuner, outside the repository)")
    parser.add_argument("--report-dir", default=str(ROOT / "reports" / "tuning"), help="where the leaderboard goes")
    parser.add_argument("--models-dir", default=str(ROOT / "saved_models"), help="where tuned-PROJECT is saved")
    parser.add_argument("--overwrite", action="store_true", help="discard an earlier search of this project")
    parser.add_argument("--no-export", action="store_true", help="only search: do not retrain and save the best")
    parser.add_argument("--retrain-epochs", type=int, help="epochs for the retrained best model (default: the config's)")
    parser.add_argument("--retrain-all-data", action="store_true",
                        help="retrain the best on the whole train split, not the --max-train-samples subset")
    parser.add_argument("--quiet", action="store_true")
    add_config_arguments(parser)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.max_trials < 1 or args.max_epochs < 1:
        parser.error("--max-trials and --max-epochs must be >= 1")
    from sentiment.cli import command_line, config_from_args, print_json

    config = config_from_args(args, parser)
    import keras
    from keras_tuner.src.distribute import utils as distribute

    from sentiment.data import DataError
    from sentiment.prepare import prepare
    from sentiment.training import TrainingError, train
    from sentiment.tuning import SentimentHyperModel, best_config, leaderboard, make_tuner, write_leaderboard

    verbose = 0 if args.quiet else 1
    try:  # the trials learn from the reviews the final training will see (intensifier swap, short crops)
        prepared = prepare(config, args.data)  # the vocabulary is adapted once, not per trial
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    train_ds, val_ds = prepared.train_dataset(), prepared.validation_dataset()

    # A resumed search must be the same search: refuse to mix trials of other data or settings.
    project_dir = Path(args.dir) / args.project
    stamp = project_dir / "search.json"
    search = {"config": config.to_dict(), "data": str(args.data), "algorithm": args.algorithm,
              "max_trials": args.max_trials, "max_epochs": args.max_epochs}
    fingerprint = hashlib.sha256(json.dumps(search, sort_keys=True).encode()).hexdigest()
    if stamp.exists() and not args.overwrite and json.loads(stamp.read_text()).get("fingerprint") != fingerprint:
        print(f"error: {project_dir} holds a search with other data or settings; rerun with the same "
              "arguments to resume it, or add --overwrite to start over", file=sys.stderr)
        return 2

    hypermodel = SentimentHyperModel(prepared.vocabulary_size, config)
    tuner = make_tuner(args.algorithm, hypermodel, max_trials=args.max_trials, max_epochs=args.max_epochs,
                       directory=args.dir, project_name=args.project, overwrite=args.overwrite, seed=config.data.seed)
    if not distribute.has_chief_oracle() or distribute.is_chief_oracle():
        project_dir.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"fingerprint": fingerprint, **search}))
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=config.train.patience)
    tuner.search(train_ds, validation_data=val_ds, epochs=args.max_epochs, callbacks=[stop], verbose=verbose)
    if distribute.has_chief_oracle() and not distribute.is_chief_oracle():
        return 0  # a worker: the chief writes the results

    rows = leaderboard(tuner)
    csv_path, md_path = write_leaderboard(rows, Path(args.report_dir) / args.project)
    print(f"leaderboard: {md_path}", file=sys.stderr)
    if args.no_export or not rows:
        print_json({"trials": len(rows), "best_val_accuracy": rows[0]["val_accuracy"] if rows else None})
        return 0
    best = best_config(tuner, config)
    overrides = {}
    if args.retrain_epochs:
        overrides["epochs"] = args.retrain_epochs
    if args.retrain_all_data:
        overrides["max_train_samples"] = None
    best = best.replace(**overrides) if overrides else best
    out = Path(args.models_dir) / f"tuned-{args.project}"
    try:
        metrics = train(best, args.data, out, command=command_line("training.tune", argv), verbose=verbose)
    except (DataError, TrainingError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print_json({"trials": len(rows), "best_val_accuracy": rows[0]["val_accuracy"], "out": str(out),
                "retrained_validation_accuracy": metrics["validation"]["accuracy"],
                "test_accuracy": metrics["test"]["accuracy"] if metrics["test"] else None})
    return 0


if __name__ == "__main__":
    sys.exit(main())
