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

from ..model_folder import write_atomically
from .claims import FAMILY, diverged, judge, show, stats


NOTES_FILE = "surprises.md"
"""Written by hand after a run (what surprised, where a claim stops holding); the report includes it."""


def write_report(out: Path, results: dict) -> dict:
    """Judge the claims of ``results``, write them to ``results.json`` and write ``report.md``."""
    results["claims"] = judge(results)
    write_atomically(out / "results.json", json.dumps(results, indent=1, default=float) + "\n")
    plot_all(results, out)
    notes = out / NOTES_FILE
    write_atomically(out / "report.md", report(results, notes.read_text() if notes.is_file() else ""))
    return results


def rewrite_report(out: str | Path) -> dict:
    """Judge the claims again from ``results.json`` and rewrite ``report.md`` (no training)."""
    out = Path(out)
    return write_report(out, json.loads((out / "results.json").read_text()))


def report(results: dict, notes: str = "") -> str:
    """The markdown report: the judged claims, then one section per experiment with its table and plot."""
    c = results["config"]
    lines = _claims_section(results)
    lines += ["", "## 1. Vanishing gradients: accuracy and gradient against distance", "",
              f"A polar IMDB sentence, then `distance` filler tokens, read from the last state (one unidirectional "
              f"layer of {c['units']} units). Validation accuracy, mean ± sd over {c['seeds']} seeds; 0.5 is chance.", ""]
    accuracy = results["vanishing"]["accuracy"]
    distances = sorted(next(iter(accuracy.values())), key=int)
    lines += _rows(["arm", *[f"distance {d}" for d in distances]],
                   [[arm, *[show(accuracy[arm][d]["seeds"]) for d in distances]] for arm in accuracy])
    lines += ["", f"The gradient of the loss with respect to the input at distance {c['probe_distance']} from the "
              "read-out, relative to the last input, at initialization (it reaches the loss only through the hidden "
              "states between, so it falls as the lecture's ||dL/dh_t|| does):", ""]
    gradients = results["vanishing"]["gradients"]
    lines += _rows(["cell and W_hh initializer", "ratio (mean ± sd)"], [[k, show(v["seeds"], 1, "e")] for k, v in gradients.items()])
    lines += ["", "![vanishing](vanishing.png)", "", "### The adding problem", "",
              f"Validation mean squared error (predicting the mean scores {1 / 6:.3f}), {c['adding_epochs']} epochs of "
              f"{c['train_examples']} sequences, Adam {c['adding_learning_rate']}:", ""]
    add = results["adding"]
    lengths = sorted(next(iter(add.values())), key=int)
    lines += _rows(["cell", *[f"length {n}" for n in lengths]], [[k, *[show(v[n]["seeds"], 4) for n in lengths]] for k, v in add.items()])
    lines += ["", "![adding](adding.png)", "", "## 2. The largest eigenvalue of W_hh", "",
              f"The plain RNN with W_hh rescaled to a spectral radius, tanh and linear; gradient ratio over "
              f"{c['probe_distance']} steps at initialization.", ""]
    lines += _rows(["activation, radius", "ratio (mean ± sd)"], [[k, show(v["seeds"], 1, "e")] for k, v in results["radius"].items()])
    lines += ["", "![radius](radius.png)", "", "## 3. Exploding gradients and clipping", "",
              f"The adding problem of length {c['explode_length']}: a plain RNN, W_hh at spectral radius "
              f"{c['explode_radius']}, plain SGD at learning rate {c['explode_learning_rate']}, {c['explode_epochs']} "
              f"epochs; `clipnorm` and `global_clipnorm` {c['clip']}, `clipvalue` {c['clip_value']}. A run diverges "
              "when a step is NaN or its loss exceeds 10x the initial loss.", ""]
    lines += _rows(["mode", "diverged seeds", "NaN steps", "largest gradient norm", "validation MSE"],
                   [[m, f"{sum(map(diverged, v['seeds']))}/{len(v['seeds'])}",
                     str([r["nan_steps"] for r in v["seeds"]]), f"{max(r['max_norm'] for r in v['seeds']):.3g}",
                     show([r["val_mse"] for r in v["seeds"]], 3, "g")] for m, v in results["clipping"].items()])
    lines += ["", "![clipping](clipping.png)", "", "## 4. LSTM against GRU", ""]
    sp = results["speed"]
    lines += [f"Training steps of batch {c['batch_size']} x {sp['sequence_length']} tokens, timed in "
              f"{c['speed_rounds']} interleaved rounds of {c['speed_steps']} steps. On this CPU Keras runs its generic "
              "recurrent kernels (the fused cuDNN kernels are for GPUs).", ""]
    lines += _rows(["arm", "trainable parameters", "ms per step (median)", f"validation at distance {c['task_distance']}"],
                   [[k, f"{v['parameters']:,}", f"{np.median(v['seconds_per_step']) * 1000:.1f}", show(v["seeds"])]
                    for k, v in sp["arms"].items()])
    lines += ["", "## 5. Bidirectional layers", "",
              f"GRU, distance {c['direction_distance']}: the sentence at the start (a forward pass reads it first, the "
              "backward pass reads it last) or at the end.", ""]
    lines += _rows(["arm", "validation"], [[k, show(v["seeds"])] for k, v in results["direction"].items()])
    lines += ["", "![direction](direction.png)", ""] + _family(results["direction"])
    lines += ["", "## 6. Depth and connections", "",
              f"Stacked unidirectional `{c['depth_cell']}` layers, distance {c['depth_distance']}, {c['depth_epochs']} epochs; "
              "`bottom gradient` = norm of the loss gradient for the first recurrent layer's weights.", ""]
    lines += _rows(["layers, connection", "validation", "bottom gradient at init", "bottom gradient trained"],
                   [[k, show([r["val_accuracy"] for r in v["seeds"]]), show([r["bottom_init"] for r in v["seeds"]], 1, "e"),
                     show([r["bottom_trained"] for r in v["seeds"]], 1, "e")] for k, v in results["depth"].items()])
    lines += ["", "![depth](depth.png)", ""]
    if notes:
        lines += [notes.strip(), ""]
    lines += ["Reproduce: `python -m training.experiments lecture7 --data ../shared/data/aclImdb_v1.tar.gz "
              "--out reports/lecture7` (add `--quick` for a toy-size run of every experiment).", ""]
    return "\n".join(lines)


def _claims_section(results: dict) -> list[str]:
    """The title, what the lab ran on, and the table of judged claims."""
    c, sizes = results["config"], results["sizes"]
    lines = [
        "# Lecture 7 lab: vanishing and exploding gradients, measured",
        "",
        f"Tasks: sentences of {sizes['reviews']:,} IMDB training reviews (never the test split) that `{c['model']}` "
        f"reads confidently in the direction of their review's label ({sizes['train_negative']:,} negative and "
        f"{sizes['train_positive']:,} positive for training, {sizes['validation_negative']:,} and "
        f"{sizes['validation_positive']:,} for validation), its frozen word vectors, and filler tokens it reads as "
        f"neutral; the adding problem. {c['train_examples']:,} training and {c['validation_examples']:,} validation "
        f"examples per run, {c['units']} units, Adam {c['learning_rate']}, at most {c['epochs']} epochs (a run stops "
        f"at validation accuracy {c['solved']}), {c['seeds']} seeds per arm. Whole lab: {results['minutes']:.1f} "
        "minutes on this machine.",
        "",
        "## Claims",
        "",
        "Every figure is mean ± sd over the seeds; each rule was written before the run and counts that spread.",
        "",
        "| claim | verdict | figures | rule |",
        "|---|---|---|---|",
    ]
    return lines + [f"| {x['claim']} | **{x['verdict']}** | {x['figures']} | {x['rule']} |" for x in results["claims"]]


def _rows(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"] + ["| " + " | ".join(r) + " |" for r in rows]


def _family(direction: dict) -> list[str]:
    arms = {k: v["family"] for k, v in direction.items() if v["family"]}
    if not arms:
        return []
    lines = ["The sentence classifiers of the sentence-at-the-end arms on intensifier sentences (P(positive), "
             "mean ± sd over seeds; shown, not judged):", ""]
    return lines + _rows(["sentence", *arms], [[s, *[show([seed[i] for seed in v]) for v in arms.values()]]
                                                for i, s in enumerate(FAMILY)])


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


def plot_all(results: dict, out: Path) -> None:
    """The report's plots, each with the seeds' spread as error bars."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for arm, by_distance in results["vanishing"]["accuracy"].items():
        _errorbar(axes[0], by_distance, arm)
    axes[0].set(xscale="log", xlabel="filler tokens between the sentence and the read-out", ylabel="validation accuracy")
    axes[0].axhline(0.5, color="grey", lw=0.8, ls=":")
    for arm, row in results["vanishing"]["gradients"].items():
        profile = np.maximum(np.asarray(row["profile"]), 1e-30)
        axes[1].semilogy(np.arange(len(profile)), profile, ls="-" if "orthogonal" in arm else "--", label=arm)
    axes[1].set(xlabel="distance from the read-out", ylabel="||dL/dx_t|| / ||dL/dx_last||", title="at initialization")
    _save(fig, axes, out / "vanishing.png")

    fig, axes = plt.subplots(1, 1, figsize=(5.5, 3.6))
    for cell, by_length in results["adding"].items():
        _errorbar(axes, by_length, cell)
    axes.axhline(1 / 6, color="grey", lw=0.8, ls=":", label="predict the mean")
    axes.set(xlabel="sequence length", ylabel="validation MSE", yscale="log")
    _save(fig, [axes], out / "adding.png")

    fig, axes = plt.subplots(1, 1, figsize=(5.5, 3.6))
    for activation in ("tanh", "linear"):
        rows = {str(v["radius"]): v for v in results["radius"].values() if v["activation"] == activation}
        _errorbar(axes, {k: {"seeds": [max(x, 1e-30) for x in v["seeds"]]} for k, v in rows.items()}, activation, float)
    axes.set(xlabel="spectral radius of W_hh", ylabel=f"gradient ratio over {results['config']['probe_distance']} steps", yscale="log")
    _save(fig, [axes], out / "radius.png")

    fig, axes = plt.subplots(1, 1, figsize=(6, 3.6))
    for mode, row in results["clipping"].items():
        losses = [np.asarray(r["step_loss"], dtype=float) for r in row["seeds"]]
        width = min(map(len, losses))
        stack = np.stack([x[:width] for x in losses])
        line, = axes.semilogy(np.arange(width), np.nanmean(np.where(np.isfinite(stack), stack, np.nan), axis=0), label=mode)
        axes.fill_between(np.arange(width), np.nanmin(stack, axis=0), np.nanmax(stack, axis=0), color=line.get_color(), alpha=0.2)
    axes.set(xlabel="training step", ylabel="training loss (epoch running mean)")
    _save(fig, [axes], out / "clipping.png")

    fig, axes = plt.subplots(1, 1, figsize=(6, 3.6))
    names = list(results["direction"])
    values = [stats(results["direction"][n]["seeds"]) for n in names]
    axes.barh(range(len(names)), [v["mean"] for v in values], xerr=[v["sd"] for v in values], color="tab:blue", alpha=0.7)
    axes.set(yticks=range(len(names)), yticklabels=names, xlabel="validation accuracy", xlim=(0.4, 1.0))
    _save(fig, [axes], out / "direction.png")

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for connection in ("none", "residual", "dense", "highway"):
        rows = {str(v["layers"]): v for v in results["depth"].values()
                if v["connection"] == connection or (v["layers"] == 1 and connection != "none")}
        _errorbar(axes[0], {k: {"seeds": [r["val_accuracy"] for r in v["seeds"]]} for k, v in rows.items()}, connection)
        _errorbar(axes[1], {k: {"seeds": [r["bottom_init"] for r in v["seeds"]]} for k, v in rows.items()}, connection)
    axes[0].set(xscale="log", xlabel="recurrent layers", ylabel="validation accuracy")
    axes[1].set(xscale="log", yscale="log", xlabel="recurrent layers", ylabel="bottom-layer gradient norm (init)")
    _save(fig, axes, out / "depth.png")


def _errorbar(ax, by_x: dict, label: str, kind=int) -> None:
    xs = sorted(by_x, key=kind)
    s = [stats(by_x[x]["seeds"]) for x in xs]
    ax.errorbar([kind(x) for x in xs], [v["mean"] for v in s], yerr=[v["sd"] for v in s], marker="o", capsize=3, label=label)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, axes, path: Path) -> None:
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    _pyplot().close(fig)
