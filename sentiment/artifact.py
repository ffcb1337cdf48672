"""Model folders written atomically: a temporary sibling folder, then a rename.

A model folder holds ``model.keras`` (raw strings in, vocabulary inside), ``config.json``,
``metrics.json``, ``history.csv``, ``curves.png`` and ``command.txt``. A crash or kill while
saving leaves the previous folder intact; the next save or load cleans up what it left.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
CURVES_FILE = "curves.png"
COMMAND_FILE = "command.txt"


def _leftovers(out: Path, kind: str) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.{kind}-*"))


def _owner_alive(path: Path) -> bool:
    """Whether the process that made ``.NAME.KIND-PID-...`` is still running (then it is not a leftover)."""
    try:
        pid = int(path.name.rsplit(".", 1)[-1].split("-")[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(out: str | Path) -> None:
    """Finish or undo an interrupted save of ``out`` by a process that is gone.

    If ``out`` is missing but a previous version was set aside (``.NAME.old-PID-*``), put it
    back; then remove half-written temporary folders and set-aside copies. Folders of a save
    still in progress (its process is alive) are left alone.
    """
    out = Path(out)
    if not out.parent.is_dir():
        return
    old = [p for p in _leftovers(out, "old") if not _owner_alive(p)]
    if not out.exists() and old:
        os.replace(old[-1], out)
        old = old[:-1]
    for path in [p for p in _leftovers(out, "tmp") if not _owner_alive(p)] + old:
        shutil.rmtree(path, ignore_errors=True)


MARKERS = (MODEL_FILE, "saved_model.pb")
"""A folder holding one of these is a model folder that a save may replace."""


def write_folder(out: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_folder)`` and then atomically make ``tmp_folder`` become ``out``.

    An existing ``out`` is replaced only after the new folder is complete, and only if it is a
    model folder (or empty): ``--out saved_models`` must not wipe every model.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not any((out / m).exists() for m in MARKERS))):
        raise FileExistsError(
            f"{out} exists and is not a model folder (no {' or '.join(MARKERS)}); refusing to replace it. "
            "Choose a new folder."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a model folder is meant to be shared
        write(tmp)
        _fsync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}-{tmp.name.rsplit('-', 1)[-1]}"
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)
    return out


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write a small file so that readers see either the old or the new content, never half."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_array_atomically(path: str | Path, array) -> None:
    """``np.save`` so that readers see either the old or the new array, never half of one."""
    import numpy as np

    path = Path(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    np.save(tmp, array)
    os.replace(tmp, path)


def _fsync_tree(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
