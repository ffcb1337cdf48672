"""The lecture-7 lab: vanishing and exploding gradients, and what fixes them, each claim tested where it applies.

``run_lecture7(data, out)`` builds tasks where the distance between the evidence and the read-out
is a knob (:mod:`.tasks`: a polar IMDB sentence followed by filler; the adding problem), runs each
experiment over several seeds (:mod:`.experiments`), judges each claim by a rule that counts the
seeds' spread (:mod:`.claims`) and writes ``report.md`` with plots (:mod:`.report`).
"""

from .claims import FAMILY, judge
from .experiments import QUICK, LabConfig, quick, run_lecture7
from .report import report_blocks, rewrite_report

__all__ = ["FAMILY", "QUICK", "LabConfig", "judge", "quick", "report_blocks", "rewrite_report", "run_lecture7"]
