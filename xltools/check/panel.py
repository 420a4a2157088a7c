"""The 自检 panel as returned: still the live formulas the template was given.

The panel is display only — the checker never reads its statuses as facts — but a clerk who
unprotects it and types "可以提交" over the status, or turns an 错误 row into a 提示, shows a
reviewer (or a screenshot in a chat group) a verdict the form does not support. So its
protection, its status formulas and the severity labels the counts rely on are compared with
the spec's plan, as every locked cell of the form is.
"""

from __future__ import annotations

import re
from hashlib import blake2b
from typing import TYPE_CHECKING

from ..cellref import a1
from ..generate.metadata import PANEL_LAYOUT, PANEL_SHEET
from ..generate.panel import PanelPlan, plan_panel
from ..generate.panel_layout import FIRST_ROW, TARGET_COL
from ..identity import IdentityCache
from ..spec.model import Spec
from .context import CheckContext
from .structure import normalise_formula, panel_layout

if TYPE_CHECKING:
    from ..xlsx.limits import Limits
    from ..xlsx.reader import RawSheet

# (ref, "label" or "formula", the text as written, normalised)
_Expected = list[tuple[str, str, str, str]]


def _plan(spec: Spec) -> tuple[PanelPlan, _Expected]:
    """The plan and each cell the panel's verdict rests on: its overall status, every row's
    status formula and severity label (the counts are taken by label), and the formulas and
    link targets of the open problems listed on top (a slot overwritten hides a problem)."""
    from ..generate.layout import layout_spec

    plan = plan_panel(spec, layout_spec(spec))
    overall = plan.overall_formula.removeprefix("=")
    cells = [("B2", "formula", overall, normalise_formula(overall))]
    for index, row in enumerate(plan.rows):
        excel_row = FIRST_ROW + index + 1
        formula = row.formula.removeprefix("=")
        cells.append((f"B{excel_row}", "label", row.label, row.label))
        cells.append((f"E{excel_row}", "formula", formula, normalise_formula(formula)))
    for (row_index, col), text in sorted(plan.top.items()):
        formula = text.removeprefix("=")
        cells.append((a1(row_index, col), "formula", formula, normalise_formula(formula)))
    for index, row in enumerate(plan.rows):
        if row.target:
            cells.append((a1(FIRST_ROW + index, TARGET_COL), "label", row.target, row.target))
    return plan, cells


_plans: IdentityCache[Spec, tuple[PanelPlan, _Expected]] = IdentityCache(_plan, limit=64)


# Digests of panels found clean (see _fingerprint), per spec: a merge meets the same panel,
# but for its statuses' cached results, in every return saved by the same application.
_clean: dict[str, set[bytes]] = {}
_CLEAN_LIMIT = 256
_VALUE = re.compile(rb"<v>[^<]*</v>")
_SHARED_STRING = re.compile(rb't="s"[^>]*><v>([0-9]{1,9})</v>')
# Each distributed workbook has its own protection password, so its hash differs in every
# return; that the panel is protected at all (sheet="true") stays in the bytes.
_PASSWORD_HASH = re.compile(rb' (?:password|hashValue|saltValue)="[^"]*"')


def _fingerprint(original: bytes, strings: list[str]) -> bytes:
    """The panel part without what changes from return to return when nothing was tampered
    with — every cell's ``<v>`` (the statuses' cached results) and the password hash of its
    protection — plus, in order, the text of every shared-string cell (a label changed in
    sharedStrings.xml changes the fingerprint). What the verdict rests on is formulas (kept:
    ``<f>`` is not ``<v>``) and labels (resolved); two panels with one fingerprint hold the
    same. Anything unusual stays in the bytes, so the worst it can do is a full read."""
    content = _VALUE.sub(b"", original)
    start = content.find(b"<sheetProtection")
    end = content.find(b">", start) + 1
    if start >= 0 and end > 0:  # the hash is in this one tag: no need to scan the rest
        content = content[:start] + _PASSWORD_HASH.sub(b"", content[start:end]) + content[end:]
    digest = blake2b(content, digest_size=20)
    count = len(strings)
    labels = [
        strings[number] if number < count else "\x00?"
        for number in map(int, _SHARED_STRING.findall(original))
    ]
    digest.update(("\x00" + "\x00".join(labels)).encode() if labels else b"")
    return digest.digest()


def check_panel(ctx: CheckContext, data: bytes, limits: Limits) -> None:
    """Compare the panel with the spec's plan. The check read the workbook without it (it is
    as large as the form); a panel like one found clean before is known by its fingerprint,
    any other is read and compared cell by cell."""
    from ..xlsx.reader import WorkbookReadError, read_part, read_workbook

    panel = ctx.workbook.sheet(PANEL_SHEET)
    if panel is None:
        ctx.finding(
            "warning",
            "tamper-panel-missing",
            f"“{PANEL_SHEET}” 工作表被删除：填报人看不到自检结果。请使用下发的模板。",
            sheet=PANEL_SHEET,
            expected=PANEL_SHEET,
        )
        return
    layout = panel_layout(ctx)
    if layout != PANEL_LAYOUT:
        # A template sent out by another xltools release: its panel is laid out otherwise and
        # cannot be compared with this release's plan. The panel is display only; the form's
        # verdict is recomputed all the same.
        ctx.finding(
            "info",
            "panel-other-layout",
            f"此工作簿由另一版本的 xltools 生成（“{PANEL_SHEET}”工作表布局 {layout}，本版为 "
            f"{PANEL_LAYOUT}），“{PANEL_SHEET}”工作表未逐格核对；表内数据已按规范重新核对，"
            "结论不受影响。下一轮填报请使用新下发的模板。",
            sheet=PANEL_SHEET,
            expected=str(PANEL_LAYOUT),
            found=str(layout),
        )
        return
    clean = _clean.setdefault(ctx.spec.sha256, set())
    fingerprint = b""
    if not panel.parsed:
        try:
            content = read_part(data, panel.part, limits)
        except WorkbookReadError:
            content = b""
        if content:
            fingerprint = _fingerprint(content, ctx.workbook.shared_strings)
            if fingerprint in clean:
                return
        others = [s.name for s in ctx.workbook.sheets if s.name != PANEL_SHEET]
        try:
            panel = read_workbook(data, limits, skip_sheets=others).sheet(PANEL_SHEET) or panel
        except WorkbookReadError:
            return  # read once already: a panel the reader refuses on its own is no form data
    if _compare(ctx, panel) and fingerprint:
        if len(clean) >= _CLEAN_LIMIT:
            clean.clear()
        clean.add(fingerprint)


def _compare(ctx: CheckContext, panel: RawSheet) -> bool:
    """The findings of one panel read cell by cell; True when it is clean."""
    _, cells = _plans(ctx.spec)
    changed: list[str] = []
    for ref, kind, written, normalised in cells:
        raw = panel.cells.get(ref)
        if kind == "label":
            found = "" if raw is None or raw.value is None else str(raw.value).strip()
            if found != written:
                changed.append(ref)
        elif (
            raw is None
            or not raw.formula
            or raw.formula != written
            and normalise_formula(raw.formula) != normalised
        ):
            changed.append(ref)
    if changed:
        first = panel.cells.get(changed[0])
        ctx.finding(
            "error",
            "tamper-panel-changed",
            f"“{PANEL_SHEET}” 工作表的 {len(changed)} 个状态或级别单元格被改写（如 {changed[0]}）："
            "自检结果不再随填写更新，显示的结论不可信。检查结果以本次重新核对为准；"
            "请使用下发的模板重新填写。",
            sheet=PANEL_SHEET,
            cell=changed[0],
            expected="公式",
            found="" if first is None or first.value is None else str(first.value)[:100],
        )
        return False
    if not panel.protected:
        ctx.finding(
            "warning",
            "tamper-protection-removed",
            f"“{PANEL_SHEET}” 工作表的保护被撤销（其内容未被改动）。",
            sheet=PANEL_SHEET,
        )
        return False
    return True
