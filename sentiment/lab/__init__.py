"""The lecture-7 lab: vanishing and exploding gradients, and what fixes them, measured on IMDB.

``run_lecture7(data, out)`` trains small models on a fixed, seeded IMDB subset (never the test
split) and writes ``report.md`` with PNG plots and CSV tables into ``out``; each claim of the
lecture is marked confirmed, refuted or unclear by the measured figures, with the rule that
decided it. Modules: :mod:`.experiments` (config, data, training runs), :mod:`.claims` (the
verdict rules), :mod:`.report` (the report and its plots).
"""

from .claims import SEED_SENTENCES, judge
from .experiments import LabConfig, run_lecture7
from .report import report_blocks, rewrite_report

__all__ = ["LabConfig", "SEED_SENTENCES", "judge", "report_blocks", "rewrite_report", "run_lecture7"]
