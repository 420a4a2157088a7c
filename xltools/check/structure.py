"""Tampering: everything locked in the distributed workbook is compared with what the spec
(and, for a bureau's copy, its pre-filled values) says it must be.

Sheet protection is a deterrent, not security; this is the verification. Each finding names
the cell and what was expected there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from ..cellref import a1, parse_a1
from ..engine import excel_serial
from ..expr import Node, to_formula
from ..generate.metadata import LISTS_SHEET, META_SHEET, PANEL_SHEET, fingerprint
from ..identity import IdentityCache
from .applications import app_label, drops_structure_lock
from .context import CheckContext

CHECK_SHEET = "校验结果"
_STRING = re.compile(r'"(?:[^"]|"")*"')


@lru_cache(maxsize=8192)  # LibreOffice's texts differ from ours in every return alike
def normalise_formula(text: str) -> str:
    """Formula text as applications may rewrite it: no "=", no spaces, upper case (outside
    string literals), no ``_xlfn.`` prefixes, and the logical constants as values
    (LibreOffice writes ``FALSE()`` where Excel and XlsxWriter write ``FALSE``)."""
    text = text.strip().removeprefix("=")
    parts, last = [], 0
    for match in _STRING.finditer(text):
        parts.append(_normalise_code(text[last : match.start()]))
        parts.append(match.group())
        last = match.end()
    parts.append(_normalise_code(text[last:]))
    return "".join(parts)


_LOGICAL_CALL = re.compile(r"(?<![\w.])(TRUE|FALSE)\(\)")


# a number literal: not part of a name or cell reference (A1, $B$2, LOG10, Sheet1!)
_NUMBER = re.compile(r"(?<![\w.$])(?:\d+\.?\d*|\.\d+)(?:E[+-]?\d+)?(?![\w.(!])")


def _normalise_code(code: str) -> str:
    code = re.sub(r"\s+", "", code).upper().replace("_XLFN.", "")
    code = _LOGICAL_CALL.sub(r"\1", code)
    # Gnumeric writes 0.005 as 0.0049999999999999999999: the same double, other digits
    return _NUMBER.sub(_number_text, code)


def _number_text(match: re.Match[str]) -> str:
    try:
        return repr(float(match.group()))
    except (ValueError, OverflowError):
        return match.group()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").strip()


def check_structure(ctx: CheckContext) -> None:
    _sheets(ctx)
    _names(ctx)
    _protection(ctx)
    _locked_cells(ctx)
    _prefill(ctx)
    _validations(ctx)
    _extra_content(ctx)


def _sheets(ctx: CheckContext) -> None:
    expected = [s.name for s in ctx.spec.sheets]
    present = [s.name for s in ctx.workbook.sheets]
    missing = [n for n in expected if n not in present]
    extra = [
        n for n in present if n not in expected and n not in (META_SHEET, LISTS_SHEET, PANEL_SHEET)
    ]
    if CHECK_SHEET in extra:
        extra.remove(CHECK_SHEET)
        ctx.finding(
            "info",
            "old-check-sheet",
            f"工作簿中有上一次检查留下的 “{CHECK_SHEET}” 工作表：本次检查不使用它。",
            sheet=CHECK_SHEET,
        )
    if len(missing) == len(extra) == 1:
        ctx.renamed[missing[0]] = extra[0]  # read and verify the form where it now is
        ctx.finding(
            "error",
            "tamper-sheet-renamed",
            f"工作表 “{missing[0]}” 被改名为 “{extra[0]}”：请恢复原名。",
            sheet=extra[0],
            expected=missing[0],
            found=extra[0],
        )
        return
    for name in missing:
        ctx.finding(
            "error",
            "tamper-sheet-missing",
            f"缺少工作表 “{name}”：请使用下发的模板，不要删除工作表。",
            sheet=name,
            expected=name,
        )
    for name in extra:
        ctx.finding(
            "warning",
            "tamper-sheet-added",
            f"多出工作表 “{name}”：模板中没有它，其内容不会被采纳。",
            sheet=name,
            found=name,
        )


# names dict -> the specs (by SHA-256) whose every field name it resolves where the layout
# put it: a remembered workbook part gives every return of a template the same dict
_names_in_place: IdentityCache[dict[str, str], set[str]] = IdentityCache(lambda _: set(), 256)


def _names(ctx: CheckContext) -> None:
    """Each field's defined name must still point where the layout put it; when rows or
    columns were inserted or deleted the names move with the cells: read from there, and say so."""
    in_place = _names_in_place(ctx.workbook.names)
    if not ctx.renamed and ctx.spec.sha256 in in_place:
        return
    findings = len(ctx.report.findings)
    _compare_names(ctx)
    if not ctx.renamed and len(ctx.report.findings) == findings:
        in_place.add(ctx.spec.sha256)


def _compare_names(ctx: CheckContext) -> None:
    moved: dict[str, list[str]] = {}
    for field_id, (sheet, cell) in ctx.expected.items():
        target = ctx.workbook.resolve(field_id)
        expected_ref = a1(cell.row, cell.col)
        # A renamed sheet (reported by _sheets) is not a move: Excel rewrites every name to the
        # new sheet name, other tools leave the old one. Either way the cell is where it was.
        actual = ctx.renamed.get(sheet, sheet)
        if actual != sheet:
            ctx.where[field_id] = (actual, expected_ref)
        if target is None:
            ctx.finding(
                "error",
                "tamper-name-missing",
                f"字段 “{field_id}” 的定义名称被删除：模板已被改动。",
                field_id=field_id,
                expected=f"{sheet}!{expected_ref}",
            )
            continue
        found_sheet, found_ref = target
        found_ref = found_ref.split(":")[0]
        if found_sheet == sheet and actual != sheet:
            found_sheet = actual
        if (found_sheet, found_ref) != (actual, expected_ref):
            moved.setdefault(sheet, []).append(
                f"{field_id}: {expected_ref} → {found_sheet}!{found_ref}"
            )
            if ctx.workbook.sheet(found_sheet) is not None:
                ctx.where[field_id] = (found_sheet, found_ref)
    for sheet, shifts in moved.items():
        ctx.moved_sheets.add(sheet)
        rows = {_row_shift(s) for s in shifts}
        ctx.finding(
            "error",
            "tamper-cells-moved",
            f"工作表 “{sheet}” 中插入或删除了行/列，{len(shifts)} 个字段的位置变了（如 {shifts[0]}）。"
            "数据已按移动后的位置读取；请使用下发的模板，不要插入或删除行列。",
            sheet=sheet,
            expected="原位置",
            found="; ".join(sorted(rows)[:3]),
        )


def _row_shift(shift: str) -> str:
    try:
        before, after = shift.split(": ")[1].split(" → ")
        (r1, c1), (r2, c2) = parse_a1(before), parse_a1(after.split("!")[-1])
        return f"行 {r2 - r1:+d}，列 {c2 - c1:+d}"
    except ValueError:
        return shift


def _protection(ctx: CheckContext) -> None:
    for sheet in ctx.spec.sheets:
        name = ctx.renamed.get(sheet.name, sheet.name)
        raw = ctx.workbook.sheet(name)
        if raw is not None and not raw.protected:
            ctx.finding(
                "error",
                "tamper-protection-removed",
                f"工作表 “{name}” 的保护被撤销：锁定的标签、分值和公式可能已被改动。",
                sheet=name,
            )
    if ctx.workbook.structure_locked:
        return
    application = ctx.workbook.application
    if drops_structure_lock(application):
        # The application, not the clerk, dropped the lock; what it guarded (sheets added,
        # removed, renamed) is compared sheet by sheet above.
        ctx.finding(
            "info",
            "app-structure-lock-dropped",
            f"此文件由 {app_label(application)} 保存，该软件保存 xlsx 时不保留工作簿结构保护；"
            "工作表的增删和改名已逐一核对。",
        )
        return
    ctx.finding(
        "warning", "tamper-structure-unlocked", "工作簿结构保护被撤销（可增删、重命名工作表）。"
    )


# (spec SHA-256, sheet) -> cell -> the RawCell last found right there. The reader hands out one
# RawCell per content, so a label, formula or fixed value seen in an earlier return is known
# right by identity; pre-filled values differ by bureau and are always compared.
_passed: dict[tuple[str, str], dict[str, Any]] = {}


def _locked_cells(ctx: CheckContext) -> None:
    prefill = prefill_values(ctx)
    for sheet_layout in ctx.layout.sheets:
        name = ctx.renamed.get(sheet_layout.name, sheet_layout.name)
        raw_sheet = ctx.workbook.sheet(name)
        if raw_sheet is None or sheet_layout.name in ctx.moved_sheets:
            continue
        cells = raw_sheet.cells
        passed = _passed.setdefault((ctx.spec.sha256, sheet_layout.name), {})
        for cell in sheet_layout.cells:
            ref = a1(cell.row, cell.col)
            raw = cells.get(ref)
            if raw is not None and passed.get(ref) is raw:
                continue
            findings = len(ctx.report.findings)
            spec_only = _locked_cell(ctx, name, ref, cell, raw, prefill)
            if spec_only and raw is not None and len(ctx.report.findings) == findings:
                passed[ref] = raw


def _locked_cell(
    ctx: CheckContext, name: str, ref: str, cell: Any, raw: Any, prefill: dict[str, Any]
) -> bool:
    """Compare one locked cell; True when what it was compared with is the spec's alone."""
    if cell.role != "field":
        found = _text(raw.value if raw else None)
        if found != cell.text.strip():
            ctx.finding(
                "error",
                "tamper-label-changed",
                f"锁定的标签被改动：应为 “{cell.text}”。",
                sheet=name,
                cell=ref,
                expected=cell.text,
                found=found,
            )
        return True
    field = ctx.spec.fields[cell.field]
    if field.formula is not None:
        _formula(ctx, cell.field, raw)
        return True
    if not field.input:
        _fixed(
            ctx,
            cell.field,
            field.value,
            raw,
            "tamper-fixed-changed",
            "规范固定的值（如分值）被改动",
        )
        return True
    if cell.field in prefill:
        _fixed(
            ctx,
            cell.field,
            prefill[cell.field],
            raw,
            "tamper-prefill-changed",
            "下发时预填并锁定的值被改动",
        )
    return False


def _excel_and_normalised(formula: Node) -> tuple[str, str]:
    text = to_formula(formula, str)
    return text, normalise_formula(text)


# by tree: the same few hundred formulas are compared in every file of a merge
_expected_formula: IdentityCache[Node, tuple[str, str]] = IdentityCache(
    _excel_and_normalised, limit=20_000
)


def _formula(ctx: CheckContext, field_id: str, raw: Any) -> None:
    field = ctx.spec.fields[field_id]
    assert field.formula is not None
    expected, normalised = _expected_formula(field.formula)
    if raw is None or not raw.formula:
        found = _text(raw.value if raw else None)
        ctx.finding(
            "error",
            "tamper-formula-replaced",
            f"“{field.label}” 的公式被替换为固定值 “{found}”：得分等计算结果不能手填。",
            field_id=field_id,
            expected="=" + expected,
            found=found,
        )
    elif raw.formula != expected and normalise_formula(raw.formula) != normalised:
        ctx.finding(
            "error",
            "tamper-formula-changed",
            f"“{field.label}” 的公式被改动。",
            field_id=field_id,
            expected="=" + expected,
            found="=" + raw.formula,
        )


def _same_value(expected: Any, found: Any) -> bool:
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        return isinstance(found, int | float) and abs(float(expected) - float(found)) <= 1e-9 * max(
            1.0, abs(float(expected))
        )
    return _text(expected) == _text(found)


def _fixed(ctx: CheckContext, field_id: str, expected: Any, raw: Any, code: str, what: str) -> None:
    found = raw.value if raw is not None else None
    if not _same_value(expected, found):
        ctx.finding(
            "error",
            code,
            f"{what}：“{ctx.spec.fields[field_id].label}” 应为 {_text(expected)}。",
            field_id=field_id,
            expected=expected,
            found=found,
        )


@lru_cache(maxsize=8)
def _decoded(text: str) -> Any:
    """The metadata's JSON, None when it is not JSON; read three times a check (not changed)."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def prefill_values(ctx: CheckContext) -> dict[str, Any]:
    """What the metadata says was pre-filled, as cells hold it (dates as serial numbers).
    Worked out once per check: structure, inputs and the blank test all ask for it."""
    if ctx.prefill is None:
        ctx.prefill = _read_prefill(ctx)
    return ctx.prefill


def _read_prefill(ctx: CheckContext) -> dict[str, Any]:
    text = ctx.meta.get("prefill", "")
    if not text:
        return {}
    values = _decoded(text)
    if not isinstance(values, dict):  # JSON, but not an object ("0"): .items() crashed
        if not any(f.code == "tamper-meta-changed" for f in ctx.report.findings):
            ctx.finding(
                "error",
                "tamper-meta-changed",
                "元数据中的预填内容已损坏：元数据工作表被改动。",
                sheet=META_SHEET,
            )
        return {}
    result: dict[str, Any] = {}
    for field_id, value in values.items():
        field = ctx.spec.fields.get(field_id)
        if field is None:
            continue
        if field.type == "date" and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = excel_serial(dt.date.fromisoformat(value))
        result[field_id] = value
    return result


def panel_layout(ctx: CheckContext) -> int:
    """The 自检 panel layout the workbook was generated with (1 when it says none)."""
    text = ctx.meta.get("panel", "") or "1"
    return int(text) if text.isdigit() and len(text) < 4 else 0


def _prefill(ctx: CheckContext) -> None:
    """The stamp: metadata fingerprint against what the metadata says was distributed."""
    bureau = ctx.meta.get("bureau_id", "")
    stamp = ctx.meta.get("fingerprint", "")
    if not stamp:
        return
    prefill = _decoded(ctx.meta.get("prefill", "") or "{}")
    if not isinstance(prefill, dict):
        prefill = {}
    recomputed = fingerprint(
        ctx.spec.template, ctx.spec.version, ctx.spec.sha256, bureau, prefill, panel_layout(ctx)
    )
    if recomputed != stamp and ctx.meta.get("spec_sha256") == ctx.spec.sha256:
        ctx.finding(
            "error",
            "tamper-fingerprint",
            "工作簿的下发标识与其内容不符：元数据或预填内容被改动。请使用下发的原始文件。",
            sheet=META_SHEET,
            expected=recomputed,
            found=stamp,
        )


def _validations(ctx: CheckContext) -> None:
    """Every editable input cell should still carry its data validation."""
    prefill = set(prefill_values(ctx))
    wanted: dict[str, list[str]] = {}
    for field in ctx.spec.inputs():
        if field.id in prefill or field.id not in ctx.where:
            continue
        sheet, ref = ctx.where[field.id]
        wanted.setdefault(sheet, []).append(ref)
    missing: dict[str, list[str]] = {}
    for sheet, refs in wanted.items():
        raw_sheet = ctx.workbook.sheet(sheet)
        ranges = raw_sheet.validations if raw_sheet is not None else []
        covered = _covered(refs, (part for sqref, _, _ in ranges for part in sqref.split()))
        missing_refs = [ref for ref in refs if ref not in covered]
        if missing_refs:
            missing[sheet] = missing_refs
    for sheet, refs in missing.items():
        ctx.finding(
            "warning",
            "tamper-validation-removed",
            f"工作表 “{sheet}” 中 {len(refs)} 个输入单元格的数据验证被删除（如 {refs[0]}）：请使用下发的模板。",
            sheet=sheet,
            cell=refs[0],
        )


def _covered(refs: list[str], areas: Iterable[str]) -> set[str]:
    """Which of ``refs`` lie inside one of ``areas`` ("C5", "B2:D9", "$A:$A" …; others are
    skipped). Each area is tested against the cells still uncovered: expanding every area into
    its cells, as before, let a few hundred ``A1:A99999`` validations in a returned file take
    minutes and gigabytes."""
    left = {}
    for ref in refs:
        with contextlib.suppress(ValueError):
            left[ref] = parse_a1(ref)
    covered: set[str] = set()
    for area in areas:
        if not left:
            break
        if ":" not in area:  # one cell, as the template writes most validations
            cell = area.replace("$", "").upper()
            if cell in left:
                covered.add(cell)
                del left[cell]
                continue
        box = _box(area)
        if box is None:
            continue
        r1, c1, r2, c2 = box
        inside = [ref for ref, (r, c) in left.items() if r1 <= r <= r2 and c1 <= c <= c2]
        for ref in inside:
            covered.add(ref)
            del left[ref]
    return covered


_AREA_END = re.compile(r"\$?([A-Za-z]{0,3})\$?([0-9]{0,7})")


def _box(area: str) -> tuple[int, int, int, int] | None:
    """0-based (first row, first col, last row, last col) of "B2:D9", "C5", "A:A" or "3:3"."""
    ends = area.split(":")
    if len(ends) > 2:
        return None
    corners = []
    for end in ends:
        match = _AREA_END.fullmatch(end.strip())
        if match is None or not (match.group(1) or match.group(2)):
            return None
        letters, digits = match.groups()
        col = -1
        if letters:
            col = 0
            for char in letters.upper():
                col = col * 26 + ord(char) - 64
            col -= 1
        corners.append((int(digits) - 1 if digits else -1, col))
    (r1, c1), (r2, c2) = corners[0], corners[-1]
    if (r1 < 0) != (r2 < 0) or (c1 < 0) != (c2 < 0):
        return None  # "A1:B" and the like
    if r1 < 0:  # whole columns
        r1, r2 = 0, 1_048_575
    if c1 < 0:  # whole rows
        c1, c2 = 0, 16_383
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _extra_content(ctx: CheckContext) -> None:
    """Values beyond the form's area on a form sheet: every cell there is locked, so they were
    written with protection removed or by a tool — nothing there is read, and a page of junk
    (or a second set of figures) below the form must not pass unnoticed."""
    for sheet_layout in ctx.layout.sheets:
        name = ctx.renamed.get(sheet_layout.name, sheet_layout.name)
        raw = ctx.workbook.sheet(name)
        if raw is None or sheet_layout.name in ctx.moved_sheets or not sheet_layout.cells:
            continue
        last_row, last_col = ctx.extents[sheet_layout.name]  # 1-based
        if raw.max_row <= last_row and raw.max_col <= last_col:
            continue
        extra = [
            position
            for ref, cell in raw.cells.items()
            if (cell.value not in (None, "") or cell.formula)
            and (position := _outside(ref, last_row, last_col)) is not None
        ]
        if extra:
            first = a1(*min(extra))
            ctx.finding(
                "error",
                "tamper-extra-content",
                f"工作表 “{name}” 的表格区域（至 {a1(last_row - 1, last_col - 1)}）以外有 "
                f"{len(extra):,} 个单元格有内容（如 {first}）：这些单元格是锁定的，内容不会被采纳。"
                "请删除它们，或在下发的模板中重新填写；说明请写在表内相应栏目。",
                sheet=name,
                cell=first,
                expected=f"A1:{a1(last_row - 1, last_col - 1)}",
                found=f"{len(extra)} 个单元格",
            )


_CELL = re.compile(r"([A-Z]+)([0-9]+)")


def _outside(ref: str, last_row: int, last_col: int) -> tuple[int, int] | None:
    """0-based (row, col) of ``ref`` (as the reader writes it: "C5") when it lies beyond the
    1-based ``last_row``/``last_col``; None inside."""
    match = _CELL.fullmatch(ref)
    if match is None:
        return None
    letters, digits = match.groups()
    row = int(digits)
    if row <= last_row and len(letters) == 1 and ord(letters) - 64 <= last_col:
        return None
    col = 0
    for char in letters:
        col = col * 26 + ord(char) - 64
    if row <= last_row and col <= last_col:
        return None
    return row - 1, col - 1
