"""The lecture-7 lab: vanishing and exploding gradients, and what fixes them, each claim tested where it applies.

``run_lecture7(data, out)`` builds tasks where the distance between the evidence and the read-out
is a knob (:mod:`.tasks`: a polar IMDB sentence followed by filler; the adding problem), runs each
experiment over several seeds (:mod:`.experiments`), judges each claim by a rule that counts the
seeds' spread (:mod:`.claims`) and writes ``report.md`` with plots (:mod:`.report`).
"""

from .claims import FAMILY, judge
from .report import report_blocks, rewrite_report

_EXPERIMENTS = ("QUICK", "LabConfig", "quick", "run_lecture7")


def __getattr__(name: str):
    """The experiments load Keras and TensorFlow (seconds); the app only shows the report, so they load on first use."""
    if name in _EXPERIMENTS:
        from . import experiments

        return getattr(experiments, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["FAMILY", "QUICK", "LabConfig", "judge", "quick", "report_blocks", "rewrite_report", "run_lecture7"]
