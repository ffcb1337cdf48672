"""Experiments that make the lecture's claims measurable.

    python -m training.experiments lecture7 --data ../shared/data/aclImdb_v1.tar.gz --out reports/lecture7
    python -m training.experiments lecture7 --data tests/fixtures/aclImdb --out /tmp/lab --quick

``lecture7`` tests each claim of lecture 7 where it applies, every arm over several seeds (never
the test split): accuracy and gradient against the distance between a sentence and the read-out
for RNN / LSTM / GRU and two initializers, the adding problem, the spectral radius of W_hh,
exploding gradients against Keras' three clipping modes, LSTM against GRU speed, bidirectional
layers, and depth 1-8 with no / residual / dense / highway connections. It writes report.md
(each claim confirmed, refuted or unclear by a rule that counts the spread), PNG plots and
results.json into --out. ``--quick`` runs every experiment at toy size in a few minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys


def main(argv=None) -> int:
    from sentiment.lab import QUICK, LabConfig, quick

    parser = argparse.ArgumentParser(prog="python -m training.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=["lecture7"])
    parser.add_argument("--data", help="aclImdb folder, aclImdb_v1.tar.gz, or tfds (required unless --report-only)")
    parser.add_argument("--out", default="reports/lecture7", help="report folder (default: reports/lecture7)")
    parser.add_argument("--quick", action="store_true", help=f"every experiment at toy size ({', '.join(QUICK)} changed)")
    parser.add_argument("--report-only", action="store_true",
                        help="judge the claims again from OUT/results.json and rewrite report.md, without training")
    kinds = {"int": int, "float": float, "str": str, "tuple": str}
    for field in dataclasses.fields(LabConfig):
        kind = field.type if isinstance(field.type, str) else field.type.__name__
        default = ",".join(map(str, field.default)) if isinstance(field.default, tuple) else field.default
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=kinds[kind], default=None,
                            help=f"(default: {default}{', a comma-separated list' if kind == 'tuple' else ''})")
    args = parser.parse_args(argv)
    base = quick() if args.quick else LabConfig()
    try:
        config = dataclasses.replace(base, **{f.name: _value(f, getattr(args, f.name)) for f in dataclasses.fields(LabConfig)
                                              if getattr(args, f.name) is not None})
        _check(config)
    except ValueError as err:
        parser.error(str(err))

    from sentiment.data import DataError
    from sentiment.lab import rewrite_report, run_lecture7

    if args.report_only:
        try:
            rewrite_report(args.out)
        except FileNotFoundError:
            parser.error(f"{args.out}/results.json not found: run the lab first (without --report-only)")
        return 0
    if not args.data:
        parser.error("--data is required: an aclImdb folder, aclImdb_v1.tar.gz, or tfds")
    from sentiment.model_folder import is_model_folder

    if not is_model_folder(config.model):
        parser.error(f"--model {config.model} is not a model folder (one holding model.keras), e.g. saved_models/default")
    try:
        run_lecture7(args.data, args.out, config, log=lambda m: print(f"[lab] {m}", file=sys.stderr, flush=True))
    except (DataError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _value(field, text):
    if not isinstance(field.default, tuple):
        return text
    kind = type(field.default[0])
    try:
        return tuple(kind(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"--{field.name.replace('_', '-')} must be a comma-separated list of numbers, got {text!r}") from None


def _check(config) -> None:
    if config.seeds < 2:
        raise ValueError("--seeds must be at least 2: the verdicts need the spread between seeds")
    if min(config.radii) <= 0 or not any(r < 1 for r in config.radii) or not any(r > 1 for r in config.radii):
        raise ValueError("--radii must be positive and include one below 1 and one above 1, e.g. 0.5,1.0,1.5")
    if 1 not in config.depths or len(set(config.depths)) < 2 or min(config.depths) < 1:
        raise ValueError("--depths must include 1 and at least one deeper stack, e.g. 1,2,4,8")
    if min(config.distances) < 0 or config.probe_distance < 1:
        raise ValueError("--distances must be >= 0 and --probe-distance >= 1")
    counts = ("reviews", "max_words", "filler_words", "train_examples", "validation_examples", "units", "epochs",
              "batch_size", "probe_examples", "adding_epochs", "explode_length", "explode_epochs", "direction_distance",
              "depth_epochs", "speed_rounds", "speed_steps")
    for name in counts:
        if getattr(config, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(config, name)}")
    if min(config.adding_lengths) < 2:
        raise ValueError("--adding-lengths must be at least 2 (two numbers are marked in each sequence), e.g. 20,50,100")
    if min(config.task_distance, config.depth_distance) < 0:
        raise ValueError("--task-distance and --depth-distance must be >= 0")
    from sentiment.config import CELLS

    if config.depth_cell not in CELLS:
        raise ValueError(f"--depth-cell must be one of {', '.join(CELLS)}, got {config.depth_cell!r}")
    if not 0 < config.solved <= 1 or not 0 <= config.confidence < 1:
        raise ValueError("--solved must be in (0, 1] and --confidence in [0, 1)")
    for name in ("learning_rate", "adding_learning_rate", "explode_learning_rate", "explode_radius", "clip", "clip_value"):
        if not getattr(config, name) > 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive, got {getattr(config, name)}")


if __name__ == "__main__":
    sys.exit(main())
