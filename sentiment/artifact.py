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


def recover(out: str | Path) -> None:
    """Finish or undo an interrupted save of ``out``.

    If ``out`` is missing but a previous version was set aside (``.NAME.old-*``), put it back;
    then remove half-written temporary folders and set-aside copies.
    """
    out = Path(out)
    if not out.parent.is_dir():
        return
    old = _leftovers(out, "old")
    if not out.exists() and old:
        os.replace(old[-1], out)
        old = old[:-1]
    for path in _leftovers(out, "tmp") + old:
        shutil.rmtree(path, ignore_errors=True)


def write_folder(out: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_folder)`` and then atomically make ``tmp_folder`` become ``out``.

    An existing ``out`` is replaced only after the new folder is complete.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a model folder is meant to be shared
        write(tmp)
        _fsync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
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


def _fsync_tree(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
