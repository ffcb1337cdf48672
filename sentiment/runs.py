"""The work folder of one training run: what makes a rerun resume instead of starting over.

The vocabulary, word vectors, per-epoch backups, best weights, soft labels and logs of a run live
in a work folder outside the repository (``$SENTIMENT_CACHE/runs/NAME-HASH``), stamped with a
fingerprint of the config, the data and the strategy. Rerunning the same command finds the same
folder and the same fingerprint and continues. A different command refuses to discard an interrupted
run's progress (it names what differs) unless it is asked to restart.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

from . import model_folder
from .data import cache_dir

MIN_FREE_BYTES = 200 * 1024 * 1024


class TrainingError(RuntimeError):
    """Training could not start or did not produce a usable model."""


def default_work_dir(out: str | Path) -> Path:
    """``$SENTIMENT_CACHE/runs/<name>-<hash of the absolute output path>``."""
    out = Path(out).resolve()
    return cache_dir() / "runs" / f"{out.name}-{hashlib.sha1(str(out).encode()).hexdigest()[:8]}"


def fingerprint(config_json: str, data: str, strategy: str) -> str:
    """What a run is: its config, its data and its strategy (a multi-worker run does not resume as a single one)."""
    return hashlib.sha256(f"{config_json}\n{data}\n{strategy}".encode()).hexdigest()


class RunFolder:
    """The work folder of one run: only the files listed here are ever created or deleted in it.

    A model of the run has a ``member`` name: ``""`` for the saved model, ``"teacher"`` for the
    distillation teacher, whose files are ``history-teacher.csv`` and so on.
    """

    FILES = ("run.json", "vocabulary.txt", "word_vectors.npy", "history.csv", "best.weights.h5", "fit_done", "backup",
             "logs", "gradients.csv", "gradient_steps.csv", "soft_labels.npy", "teacher.json")
    MEMBERS = ("", "teacher")

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        if self.folder.is_dir() and any(self.folder.iterdir()) and not (self.folder / "run.json").exists():
            raise TrainingError(
                f"work folder {self.folder} is not empty and holds no run.json, so it is not a run of this "
                "project; choose an empty or new --work-dir (nothing was deleted)"
            )

    def path(self, name: str, member: str = "") -> Path:
        """A file of the run, of the saved model or of a helper ``member`` (``history-teacher.csv``)."""
        assert name in self.FILES and member in self.MEMBERS, (name, member)
        if member:
            stem, dot, rest = name.partition(".")
            name = f"{stem}-{member}{dot}{rest}"
        return self.folder / name

    def start(self, stamp: str, description: dict, *, restart: bool = False) -> bool:
        """True when an interrupted run with the same fingerprint ``stamp`` is there to resume.

        An interrupted run of another command that completed an epoch is never discarded silently:
        without ``restart`` it is a :class:`TrainingError` that names what differs.
        """
        run_file = self.folder / "run.json"
        try:
            recorded = json.loads(run_file.read_text())
        except (OSError, ValueError):
            recorded = {}
        recorded = recorded if isinstance(recorded, dict) else {}
        same = recorded.get("fingerprint") == stamp
        progress = any(self.path(name, member).exists() for name in self.FILES[1:] for member in self.MEMBERS)
        if not same and self.has_trained() and not restart:
            raise TrainingError(
                f"work folder {self.folder} holds an interrupted run of a different command ("
                + "; ".join(differences(recorded, description)) + "). Rerun that command to resume it, add "
                "--restart to discard its progress and start this one, or choose another --out or --work-dir"
            )
        if not same:
            self.clear()
        self.folder.mkdir(parents=True, exist_ok=True)
        model_folder.write_atomically(run_file, json.dumps({"fingerprint": stamp, **description}))
        return same and progress

    def has_trained(self) -> bool:
        """Whether the run holds work worth keeping: a completed (not diverged) epoch of any member, or soft labels."""
        from .history import read_history

        def finite(text) -> bool:  # a diverged epoch is logged with a NaN loss
            try:
                return math.isfinite(float(text))
            except (TypeError, ValueError):  # a row cut short by a kill
                return False

        return self.path("soft_labels.npy").exists() or any(
            finite(row.get("loss")) for member in self.MEMBERS for row in read_history(self.path("history.csv", member)))

    def clear(self) -> None:
        """Delete the run's own files (and temporary files a kill left mid-write), nothing else."""
        for name in self.FILES:
            for member in self.MEMBERS:
                target = self.path(name, member)
                for path in [target, *self.folder.glob(f".tmp-*-{target.name}")]:
                    if path.is_dir():
                        shutil.rmtree(path)
                    elif path.exists():
                        path.unlink()

    def finish(self) -> None:
        """The run is complete: nothing is left to resume."""
        self.clear()
        try:
            self.folder.rmdir()
        except OSError:
            pass


def differences(recorded: dict, description: dict, limit: int = 6) -> list[str]:
    """What differs between a run's recorded description and a new one, as ``key: old -> new``."""
    def flat(value, prefix=""):
        if isinstance(value, dict):
            return {k: v for key, item in value.items() for k, v in flat(item, f"{prefix}{key}.").items()}
        return {prefix.rstrip("."): value}

    old, new = flat({k: v for k, v in recorded.items() if k != "fingerprint"}), flat(description)
    changed = [f"{key}: {old.get(key, 'unset')} -> {new.get(key, 'unset')}"
               for key in sorted(set(old) | set(new)) if old.get(key, "unset") != new.get(key, "unset")]
    if not changed:
        return ["its strategy, or a run.json that cannot be read"]
    return changed[:limit] + ([f"and {len(changed) - limit} more"] if len(changed) > limit else [])


def check_writable(folder: Path, what: str) -> None:
    """Fail before training if ``folder`` cannot be created or written, or its disk is nearly full."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{id(folder)}"
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as err:
        raise TrainingError(f"cannot write the {what} {folder}: {err.strerror or err}. Choose a writable folder.") from None
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        raise TrainingError(
            f"only {free // 2**20} MB free on the disk of the {what} {folder}; "
            f"training needs at least {MIN_FREE_BYTES // 2**20} MB. Free some space or choose another folder."
        )
