"""Reports of a simulation: report.json, report.html with PNG plots, the final model, its anchor, the preprocessing
of its inputs, and checks.

- :mod:`fedchain.report.files`: :func:`write_report` and report.json's schema (in its docstring);
- :mod:`fedchain.report.verify`: recomputing a saved model's root and comparing it with its anchor;
- :mod:`fedchain.report.live`: the terminal view while a simulation runs, and its summary.
- :mod:`fedchain.report.stats`: confidence intervals of an accuracy and of the difference of two models' accuracies;
- :mod:`fedchain.report.compare`: the numbers the page, the plots and the summary state, with those intervals.
"""

from fedchain.report.errors import ReportError, VerificationError
from fedchain.report.files import MODEL_FILE, PREPROCESSING_FILE, REPORT_JSON, report_data, write_report
from fedchain.report.verify import (
    ANCHOR_FILE,
    Anchor,
    Verdict,
    read_anchor,
    verify_against_anchor,
    verify_model,
    verify_on_chain,
)

__all__ = [
    "ANCHOR_FILE",
    "MODEL_FILE",
    "PREPROCESSING_FILE",
    "REPORT_JSON",
    "Anchor",
    "ReportError",
    "Verdict",
    "VerificationError",
    "read_anchor",
    "report_data",
    "verify_against_anchor",
    "verify_model",
    "verify_on_chain",
    "write_report",
]
