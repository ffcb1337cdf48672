"""Experiments that make the lecture's claims measurable.

    python -m training.experiments lecture7 --data ../shared/data/aclImdb_v1.tar.gz --out reports/lecture7

``lecture7`` trains small models on a fixed, seeded IMDB subset (never the test split): plain
RNN vs LSTM vs GRU, exploding gradients with and without clipping, depth 1-8 with and without
residual connections, bidirectional vs unidirectional, and the spectral radius of the plain
RNN's recurrent weights. It writes report.md (each claim confirmed, refuted or unclear, with
its figures), PNG plots, results.json and per-run gradient logs (raw/) into --out.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys


def main(argv=None) -> int:
    from sentiment.lab import LabConfig

    parser = argparse.ArgumentParser(prog="python -m training.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=["lecture7"])
    parser.add_argument("--data", help="aclImdb folder, aclImdb_v1.tar.gz, or tfds (required unless --report-only)")
    parser.add_argument("--out", default="reports/lecture7", help="report folder (default: reports/lecture7)")
    parser.add_argument("--report-only", action="store_true",
                        help="judge the claims again from OUT/results.json and rewrite report.md, without training")
    for field in dataclasses.fields(LabConfig):
        if field.type in ("int", "float", int, float):
            parser.add_argument(f"--{field.name.replace('_', '-')}", type=int if field.type in ("int", int) else float,
                                default=field.default, help=f"(default: {field.default})")
    parser.add_argument("--depths", default="1,2,4,8", help="stack depths to compare (default: 1,2,4,8)")
    parser.add_argument("--radii", default="0.5,0.9,1.0,1.1,1.5",
                        help="spectral radii of the plain RNN's recurrent weights (default: 0.5,0.9,1.0,1.1,1.5)")
    args = parser.parse_args(argv)
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(LabConfig) if f.name not in ("depths", "radii")}
    try:
        depths = tuple(int(d) for d in args.depths.split(","))
        radii = tuple(float(r) for r in args.radii.split(","))
        if min(radii) <= 0:
            raise ValueError("--radii must be positive numbers, e.g. 0.5,1.0,1.5")
        config = LabConfig(**values, depths=depths, radii=radii)
        if 1 not in depths or len(set(depths)) < 2 or min(depths) < 1:
            raise ValueError("--depths must include 1 and at least one deeper stack, e.g. 1,2,4,8")
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

    try:
        run_lecture7(args.data, args.out, config, log=lambda m: print(f"[lab] {m}", file=sys.stderr, flush=True))
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
