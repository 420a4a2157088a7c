"""The 自检 panel as returned: still the live formulas the template was given.

The panel is display only — the checker never reads its statuses as facts — but a clerk who
unprotects it and types "可以提交" over the status, or turns an 错误 row into a 提示, shows a
reviewer (or a screenshot in a chat group) a verdict the form does not support. So its
protection, its status formulas and the severity labels the counts rely on are compared with
the spec's plan, as every locked cell of the form is.
"""

from __future__ import annotations

from ..generate.metadata import PANEL_SHEET
from ..generate.panel import FIRST_ROW, PanelPlan, plan_panel
from ..identity import IdentityCache
from ..spec.model import Spec
from .context import CheckContext
from .structure import normalise_formula

# (ref, "label" or "formula", the text as written, normalised)
_Expected = list[tuple[str, str, str, str]]


def _plan(spec: Spec) -> tuple[PanelPlan, _Expected]:
    """The plan and each cell the panel's verdict rests on: its overall status, and every
    row's status formula and severity label (the counts are taken by label)."""
    from ..generate.layout import layout_spec

    plan = plan_panel(spec, layout_spec(spec))
    overall = plan.overall_formula.removeprefix("=")
    cells = [("B2", "formula", overall, normalise_formula(overall))]
    for index, row in enumerate(plan.rows):
        excel_row = FIRST_ROW + index + 1
        formula = row.formula.removeprefix("=")
        cells.append((f"B{excel_row}", "label", row.label, row.label))
        cells.append((f"E{excel_row}", "formula", formula, normalise_formula(formula)))
    return plan, cells


_plans: IdentityCache[Spec, tuple[PanelPlan, _Expected]] = IdentityCache(_plan, limit=64)


def check_panel(ctx: CheckContext) -> None:
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
    if not panel.parsed:
        return
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
    elif not panel.protected:
        ctx.finding(
            "warning",
            "tamper-protection-removed",
            f"“{PANEL_SHEET}” 工作表的保护被撤销（其内容未被改动）。",
            sheet=PANEL_SHEET,
        )
