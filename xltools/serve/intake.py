"""Checking one upload: the verdict ``xltools check`` gives, the checked copy it writes, and
what only the intake knows — whose token sent it.

Runs in a worker thread (never on the event loop). The verdict:

* ``rejected``: what ``merge`` would never accept (not a workbook, unreadable, not one of our
  templates, tampered with, not the copy the distribution manifest says was issued …: merge's
  own rule), a file whose distribution stamp names another
  bureau than the token's (``serve-wrong-bureau``), or another template than the roster gives
  that bureau (``serve-wrong-template``), or a name that is no workbook's
  (``skipped-not-workbook``, as ``check`` sets such a file aside);
* ``blank``: the template sent back unfilled (``return-blank``);
* ``errors``: a return with errors to correct;
* ``passed``: no error.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..check.files import check_one
from ..check.manifest import Manifest
from ..check.report import Finding, Report
from ..merge.inputs import is_workbook_name
from ..merge.worker import rejection
from ..registry import Registry
from ..xlsx.limits import Limits
from .store import BureauRecord


@dataclass
class Checked:
    report: Report
    verdict: str
    code: str
    reason: str
    copy: Path | None  # the checked copy (a temporary file, to be added to the blob store)


def check_upload(
    blob: Path,
    name: str,
    bureau: BureauRecord,
    registry: Registry,
    limits: Limits,
    scratch: Path,
    manifest: Manifest | None = None,
) -> Checked:
    """Check the stored upload ``blob`` (sent as ``name``) for ``bureau``; held to the
    distribution ``manifest`` when the roster is one."""
    if not is_workbook_name(name):
        report = Report(file=name)
        report.add(
            Finding(
                "error",
                "skipped-not-workbook",
                "不是工作簿（扩展名不是 .xlsx/.xlsm/.xls 等），未检查。请上传填好的自评表（.xlsx）；"
                "如果它其实是工作簿，请改回 .xlsx 扩展名后重新上传。",
            )
        )
        return Checked(report, "rejected", "skipped-not-workbook", "不是工作簿", None)
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / f"{secrets.token_hex(8)}.checked.xlsx"
    result = check_one(blob, registry, limits, copy_to=copy, display=name, manifest=manifest)
    report = result.report
    rejected = rejection(report.findings, bool(report.template))
    if rejected is None and not report.blank:  # a return merge could take: but whose is it?
        _stamp_findings(report, bureau)
        mine = [f for f in report.findings if f.code.startswith("serve-wrong-")]
        if mine:
            rejected = (mine[0].code, mine[0].message)
            if result.copy is not None:  # the copy says so too, on its first screen
                _rewrite_copy(blob, result.copy, report)
    if report.blank:
        verdict, (code, reason) = "blank", rejected or ("return-blank", "未填写")
    elif rejected is not None:
        verdict, (code, reason) = "rejected", rejected
    elif not report.valid:
        first = next(f for f in report.sorted_findings() if f.severity == "error")
        verdict, code = "errors", first.code
        reason = f"{report.count('error')} 个错误，如：{first.message}"
    else:
        verdict, code, reason = "passed", "", ""
    return Checked(report, verdict, code, reason, result.copy)


def _stamp_findings(report: Report, bureau: BureauRecord) -> None:
    """What the workbook's distribution stamp says against the token that sent it."""
    if report.bureau_id and report.bureau_id != bureau.bureau_id:
        report.add(
            Finding(
                "error",
                "serve-wrong-bureau",
                f"这份工作簿是分发给单位 {report.bureau_id}"
                + (f"（{report.bureau_name}）" if report.bureau_name else "")
                + f" 的，不是本单位（{bureau.bureau_id} {bureau.name}）的，未采纳。"
                "请上传分发给本单位的工作簿；如果确是代其他单位提交，请用该单位的上传口令登录。",
                expected=bureau.bureau_id,
                found=report.bureau_id,
            )
        )
    if bureau.template and report.template != bureau.template:
        report.add(
            Finding(
                "error",
                "serve-wrong-template",
                f"这份工作簿是模板 {report.template}（{report.title}），本单位应交的是 "
                f"{bureau.template}，未采纳。请上传分发给本单位的那份自评表。",
                expected=bureau.template,
                found=report.template,
            )
        )
    if not report.bureau_id:
        report.add(
            Finding(
                "info",
                "serve-no-stamp",
                "这份工作簿不是分发给本单位的预填工作簿（没有单位标识），按登录的单位"
                f"（{bureau.bureau_id}）记录。",
            )
        )


def _rewrite_copy(blob: Path, copy: Path, report: Report) -> None:
    from ..check.annotate import write_checked_copy

    # the copy was written from this very file a moment ago: it can be written again
    with contextlib.suppress(ValueError):
        write_checked_copy(blob, copy, report)
