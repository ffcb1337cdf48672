"""The lab's report: ``report.md`` from the results, its plots, and its blocks for display.

``rewrite_report(out)`` judges the claims again from ``results.json`` and rewrites ``report.md``
without training; ``report_blocks(folder)`` splits a written report into markdown and images
for the app.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .claims import SEED_SENTENCES, decay, judge


def write_report(out: Path, results: dict) -> dict:
    """Judge the claims of ``results``, write them to ``results.json`` and write ``report.md``."""
    results["claims"] = judge(results)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    (out / "report.md").write_text(report(results))
    return results


def rewrite_report(out: str | Path) -> dict:
    """Judge the claims again from ``results.json`` and rewrite ``report.md`` (no training)."""
    out = Path(out)
    return write_report(out, json.loads((out / "results.json").read_text()))


def report(results: dict) -> str:
    """The markdown report: the judged claims, then one section per experiment with its table and plot."""
    c = results["config"]
    for group in ("cells", "radii"):  # shown in the tables, not saved
        for row in results[group].values():
            row["decay_init"], row["decay_trained"] = decay(row["init_time_steps"]), decay(row["trained_time_steps"])
    rnn = results["cells"]["rnn"]
    lines = _claims_section(results)
    lines += ["", "## 1. Plain RNN vs LSTM vs GRU", "",
              "One unidirectional layer each, last-state head. `decay` = gradient norm at the first probe step "
              "divided by the norm at the last (how much the end of a review hears its beginning).", ""]
    lines += _table(results["cells"], ["best_val_accuracy", "seconds_per_epoch", "parameters", "decay_init", "decay_trained"])
    lines += ["", "![gradient against distance](cells-time-steps.png)", ""]
    lines += ["## 5. Spectral radius of the plain RNN's recurrent weights", "",
              f"Largest |eigenvalue| of W_hh: {rnn['spectral_radius_init']:.3f} at initialization (Keras' orthogonal "
              f"initializer), {rnn['spectral_radius_trained']:.3f} after training; gradient decay over the probe "
              f"{rnn['decay_init']:.2e} at initialization, {rnn['decay_trained']:.2e} after training.", ""]
    lines += [f"Rescaled copies of the plain RNN, W_hh set to a given spectral radius before training "
              f"(`decay` as in experiment 1):", ""]
    lines += _table(results["radii"], ["decay_init", "decay_trained", "spectral_radius_trained", "best_val_accuracy"])
    lines += ["", "![radius](radius.png)", ""]
    lines += ["## 2. Exploding gradients and clipping", "",
              f"Plain RNN at learning rate {c['explode_learning_rate']} (Adam), W_hh rescaled to spectral radius "
              f"{c['explode_radius']} (the regime where gradients can grow), clipping threshold {c['clip']}.", ""]
    lines += _table(results["exploding"], ["best_val_accuracy", "final_loss", "nan_steps", "max_global_norm", "clipped_fraction"])
    lines += ["", "![exploding](exploding.png)", "", "## 3. Depth and residual connections", "",
              "GRU layers, unidirectional. `bottom_norm` = gradient norm of the first recurrent layer's weights.", ""]
    lines += _table(results["depth"], ["best_val_accuracy", "seconds_per_epoch", "bottom_norm_init", "bottom_norm_trained", "embedding_norm_init"])
    lines += ["", "![depth](depth.png)", "", "## 4. Bidirectional vs unidirectional", ""]
    lines += _table(results["direction"], ["best_val_accuracy", "seconds_per_epoch", "parameters"])
    lines += _attributions(results["direction"])
    lines += ["", "Per-run gradient plots are in `raw/` (the lab also writes each run's CSV logs there; they are not committed). Reproduce: "
              "`python -m training.experiments lecture7 --data ../shared/data/aclImdb_v1.tar.gz --out reports/lecture7`.", ""]
    return "\n".join(lines)


def _claims_section(results: dict) -> list[str]:
    """The title, what the lab ran on, and the table of judged claims."""
    c, sizes = results["config"], results["sizes"]
    lines = [
        "# Lecture 7 lab: vanishing and exploding gradients, measured",
        "",
        f"Data: {sizes['train']} training reviews (a seeded sample of IMDB's train split) and "
        f"{sizes['validation']} validation reviews held out of train; never the test split. Reviews cut at "
        f"{c['max_length']} tokens, vocabulary {c['max_tokens']:,}, embedding {c['embedding_dim']}, "
        f"{c['units']} units, {c['epochs']} epochs, batch {c['batch_size']}, Adam {c['learning_rate']}, no dropout. "
        f"Gradient probes: {sizes['probe']} validation reviews of {sizes['probe_length']} tokens. "
        f"Whole lab: {results['minutes']:.1f} minutes on this machine.",
        "",
        "## Claims",
        "",
        "| claim | verdict | figures | rule |",
        "|---|---|---|---|",
    ]
    return lines + [f"| {x['claim']} | **{x['verdict']}** | {x['figures']} | {x['rule']} |" for x in results["claims"]]


def _table(rows: dict, columns: list[str]) -> list[str]:
    out = ["| model | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, row in rows.items():
        cells = []
        for col in columns:
            value = row.get(col)
            cells.append(f"{value:.4g}" if isinstance(value, float) else str(value))
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def _attributions(direction: dict) -> list[str]:
    lines = ["", "Occlusion attributions (P(positive) with the word minus without it):", ""]
    for sentence in SEED_SENTENCES:
        lines.append(f"- *{sentence}*")
        for name, row in direction.items():
            words = ", ".join(f"{r['word']} {r['attribution']:+.2f}" for r in row["attributions"][sentence])
            lines.append(f"  - {name}: P(positive) {row['probabilities'][sentence]:.3f}; {words}")
    return lines


def report_blocks(folder: str | Path) -> list[tuple[str, str]]:
    """``report.md`` split for display: ``("markdown", text)`` and ``("image", path)`` blocks in order.

    Raises ``FileNotFoundError`` when the folder holds no report yet.
    """
    folder = Path(folder)
    text = (folder / "report.md").read_text(encoding="utf-8")
    blocks: list[tuple[str, str]] = []
    buffer: list[str] = []
    for line in text.splitlines():
        image = re.fullmatch(r"!\[[^\]]*\]\(([^)]+)\)", line.strip())
        if image and (folder / image.group(1)).is_file():
            if buffer:
                blocks.append(("markdown", "\n".join(buffer)))
                buffer = []
            blocks.append(("image", str(folder / image.group(1))))
        else:
            buffer.append(line)
    if buffer:
        blocks.append(("markdown", "\n".join(buffer)))
    return blocks


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    _pyplot().close(fig)


def plot_time_steps(cells: dict, path: Path, label=str.upper) -> None:
    """Gradient norm against distance from the last token, at initialization and after training, one line per run."""
    fig, axes = _pyplot().subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for ax, key, title in ((axes[0], "init_time_steps", "at initialization"), (axes[1], "trained_time_steps", "after training")):
        for cell, row in cells.items():
            steps = np.asarray(row[key])
            distance = np.arange(len(steps))[::-1]
            ax.semilogy(distance, np.maximum(steps, 1e-30), label=label(cell))
        ax.set_xlabel("distance from the last token")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_ylabel("||d loss / d embedding(x_t)||")
    _save(fig, path)


def plot_explode(rows: dict, path: Path) -> None:
    """Training loss and global gradient norm against the training step, one line per clipping mode."""
    fig, axes = _pyplot().subplots(1, 2, figsize=(10, 3.5))
    for label, row in rows.items():
        steps = [r["step"] for r in row["monitor_rows"]]
        axes[0].plot(steps, [r["loss"] for r in row["monitor_rows"]], label=label)
        axes[1].semilogy(steps, [max(r["global_norm"], 1e-12) for r in row["monitor_rows"]], label=label)
    axes[0].set_title("training loss (running mean of the epoch)")
    axes[1].set_title("global gradient norm before clipping")
    for ax in axes:
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
        ax.legend()
    _save(fig, path)


def plot_depth(rows: dict, depths: tuple, path: Path) -> None:
    """Validation accuracy and bottom-layer gradient norm against the number of layers, plain and residual."""
    fig, axes = _pyplot().subplots(1, 2, figsize=(10, 3.5))
    for residual, style in ((False, "-o"), (True, "--s")):
        names = [f"depth-{d}{'-residual' if residual and d > 1 else ''}" for d in depths]
        present = [(d, rows[n]) for d, n in zip(depths, names) if n in rows]
        label = "residual" if residual else "plain"
        axes[0].plot([d for d, _ in present], [r["best_val_accuracy"] for _, r in present], style, label=label)
        axes[1].semilogy([d for d, _ in present], [max(r["bottom_norm_init"], 1e-30) for _, r in present], style, label=label)
    axes[0].set_title("validation accuracy")
    axes[1].set_title("gradient norm of the bottom layer (init)")
    for ax in axes:
        ax.set_xlabel("recurrent layers")
        ax.set_xscale("log", base=2)
        ax.grid(alpha=0.3)
        ax.legend()
    _save(fig, path)
