"""Shared fixtures: the tiny aclImdb fixture, a private cache folder, tiny model settings."""

import os
import shutil
import socket
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "aclImdb"
FULL_ARCHIVE = ROOT.parent / "shared" / "data" / "aclImdb_v1.tar.gz"
SHIPPED_MODEL = ROOT / "saved_models" / "default"

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
"""Environment of the commands that tests run in a child process (``python -m training.train``, ...)."""

TINY_MODEL = dict(units=4, embedding_dim=4, num_layers=1, dropout=0.0)
"""Model settings small enough for a train step in well under a second."""


def tiny_overrides(**extra) -> list[str]:
    """``--key value`` flags for a tiny, fast training run on the fixture."""
    values = {"units": 4, "embedding_dim": 8, "max_tokens": 100, "max_length": 40, "batch_size": 8,
              "epochs": 2, "validation_fraction": 0.25, **extra}
    return [arg for key, value in values.items() for arg in (f"--{key}", str(value))]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process, timeout: float = 120) -> None:
    """Wait until GET ``url`` answers 200; fail with the process's output if it dies or the time runs out."""
    deadline = time.monotonic() + timeout  # monotonic: a clock adjustment cannot end the wait early
    while True:
        try:
            if urllib.request.urlopen(url, timeout=1).status == 200:
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read().decode(errors="replace")[-3000:] if process.stdout else ""
            pytest.fail(f"{url} did not become healthy (exit code {process.poll()}): {output}")
        time.sleep(0.2)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SENTIMENT_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def fixture_archive(tmp_path_factory):
    """The fixture packed like the official ``aclImdb_v1.tar.gz``."""
    path = tmp_path_factory.mktemp("archive") / "aclImdb_v1.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(FIXTURE, arcname="aclImdb")
    return path


@pytest.fixture
def fixture_copy(tmp_path):
    """A writable copy of the fixture folder (for tests that break it on purpose)."""
    target = tmp_path / "aclImdb"
    shutil.copytree(FIXTURE, target)
    return target


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory):
    """A tiny model trained on the fixture through the real command (shared by several tests)."""
    from training import train

    out = tmp_path_factory.mktemp("models") / "tiny"
    work = tmp_path_factory.mktemp("work")
    code = train.main(["--data", str(FIXTURE), "--out", str(out), "--work-dir", str(work), "--quiet",
                       *tiny_overrides(epochs=3, learning_rate=0.02)])
    assert code == 0
    return out
