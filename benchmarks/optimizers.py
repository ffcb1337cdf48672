"""Training-step time of the builder's two optimizers, side by side in one run.

    python -m benchmarks.optimizers [--batch-sizes 32 64] [--units 64 128] [--repeats 15]

Builds the default recipe's model (20,000-word vocabulary, 128-wide embedding, BiGRU, max+mean
pooling, dropout, ``global_clipnorm`` 1) for each optimizer (``adam``: ``DenseAdam``;
``lazy_adam``: ``LazyAdam``), batch size and width, and times ``train_on_batch`` on the same
synthetic batches: token ids drawn from the vocabulary, 230 tokens (the median review length in
tokens), the last 20-60 padded. The variants take turns, one step each, ``--repeats`` times after a
warm-up, so that a noisy shared machine slows them alike. Prints a Markdown table (median
milliseconds per step, reviews per second, speed relative to ``adam`` at the same batch size and
width) and writes it to ``benchmarks/results/optimizers.md``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY, LENGTH = 20000, 230


def batch(rng, size):
    ids = rng.integers(2, VOCABULARY, size=(size, LENGTH))
    ids[:, -20:] = 0
    ids[: size // 2, -60:] = 0
    return ids, rng.integers(0, 2, size=(size, 1)).astype("float32")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--units", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "optimizers.md")
    args = parser.parse_args(argv)
    if args.repeats < 1 or min(args.batch_sizes) < 1 or min(args.units) < 1:
        parser.error("--repeats, --batch-sizes and --units take integers >= 1")

    from sentiment.config import TrainConfig
    from sentiment.fitting import compile_model
    from sentiment.model import build_model

    rng = np.random.default_rng(0)
    variants = {}
    for size in args.batch_sizes:
        data = batch(rng, size)
        for units in args.units:
            for optimizer in ("adam", "lazy_adam"):
                model = compile_model(build_model(VOCABULARY, units=units, embedding_dropout=0.3, dropout=0.4),
                                      TrainConfig(global_clipnorm=1.0, optimizer=optimizer))
                for _ in range(3):  # trace and warm up
                    model.train_on_batch(*data)
                variants[(size, units, optimizer)] = (model, data, [])
    for _ in range(args.repeats):
        for model, data, seconds in variants.values():
            start = time.perf_counter()
            model.train_on_batch(*data)
            seconds.append(time.perf_counter() - start)

    lines = [
        f"Measured {datetime.date.today()} on {platform.machine()} with {os.cpu_count()} CPU cores: "
        f"`python -m benchmarks.optimizers --batch-sizes {' '.join(map(str, args.batch_sizes))} "
        f"--units {' '.join(map(str, args.units))} --repeats {args.repeats}` (median of {args.repeats} "
        f"steps each, variants taking turns; {LENGTH}-token reviews).",
        "",
        "| batch | units | optimizer | ms per step | reviews/s | speed vs adam |",
        "|---|---|---|---|---|---|",
    ]
    for (size, units, optimizer), (_, _, seconds) in variants.items():
        median = float(np.median(seconds))
        reference = float(np.median(variants[(size, units, "adam")][2]))
        lines.append(f"| {size} | {units} | {optimizer} | {median * 1000:.1f} | {size / median:.0f} | "
                     f"{reference / median:.2f}x |")
    table = "\n".join(lines)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
