"""A run's history: ``history.csv`` (one row per epoch, as ``CSVLogger`` writes it) and ``curves.png``.

A model folder's history of a distilled model has a ``member`` column: the teacher's epochs
first, then the student's.
"""

from __future__ import annotations

import csv
from pathlib import Path


def read_history(path: Path) -> list[dict]:
    """Rows of a ``CSVLogger`` file, one per epoch (a row repeated by a resumed run counts once)."""
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        rows = {(row.get("member") or "", int(row["epoch"])): row
                for row in csv.DictReader(handle) if row.get("epoch", "").isdigit()}
    return list(rows.values())


def write_history(rows: list[dict], path: Path) -> None:
    """History rows as CSV, every column any row has."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def summarize(history: list[dict]) -> dict:
    """Epochs run, the best epoch (1-based) and its validation accuracy, and the training time."""
    best = max(history, key=lambda row: float(row["val_accuracy"]))
    return {
        "epochs": len(history),
        "best_epoch": int(best["epoch"]) + 1,
        "validation_accuracy": round(float(best["val_accuracy"]), 4),
        "training_seconds": round(sum(float(row.get("seconds", 0) or 0) for row in history), 1),
    }


def plot_history(history: list[dict], path: Path) -> None:
    """Accuracy and loss per epoch (train and validation) as a PNG; one line pair per member."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    groups = {}
    for row in history:
        groups.setdefault(row.get("member") or "", []).append(row)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key in zip(axes, ("accuracy", "loss")):
        for member, rows in groups.items():
            for prefix, style in (("", "-o"), ("val_", "--s")):
                values = [(int(r["epoch"]) + 1, float(r[prefix + key])) for r in rows if r.get(prefix + key)]
                if values:
                    label = f"{member + ' ' if member else ''}{'validation' if prefix else 'train'} {key}"
                    ax.plot(*zip(*values), style, label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
