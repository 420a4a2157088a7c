"""Word reports: the 自评报告 of one return (:mod:`.return_report`) and the 汇总报告 of a
merge (:mod:`.summary_report`), with the house style (:mod:`.docx_style`), the figures as the
spec formats them (:mod:`.figures`) and the charts (:mod:`.charts`).

Nothing here is imported by ``xltools check``: python-docx and matplotlib load only when a
report is written."""

from __future__ import annotations


class ReportError(Exception):
    """A report cannot be written: ``code`` is stable English, ``message`` Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.code, self.message = code, message
