"""Where the 自检 panel puts things, and the formulas of its top block (issue 17).

A clerk opens the panel to learn two things: may I submit, and what is still wrong. So the
status comes first, then the open problems (错误 first, then 提醒 and 提示, each in the order of
the spec), then the full list of every check below. The top block is live: hidden helper
column H ranks each open check of the full list, and each of the ``TOP_SLOTS`` slots picks the
check of its rank with MATCH/INDEX — plain functions that Excel, WPS and LibreOffice compute
alike (no dynamic arrays, no array formulas). The full list keeps the status formulas the
checker compares; the top block only selects from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ..cellref import a1

OK, TODO = "通过", "待处理"
SEVERITY_LABEL: Final = {"error": "错误", "warning": "提醒", "info": "提示"}
ERROR_LABEL: Final = SEVERITY_LABEL["error"]

OVERALL_CELL: Final = (1, 1)  # B2: the overall status, big
NOTE_ROW: Final = 2
TOP_HEADER_ROW: Final = 3
TOP_FIRST: Final = 4  # 0-based row of the first open-problem slot
TOP_SLOTS: Final = 10  # bounded: ten problems and a line that says how many more
MORE_ROW: Final = TOP_FIRST + TOP_SLOTS
LIST_TITLE_ROW: Final = MORE_ROW + 2
FIRST_ROW: Final = LIST_TITLE_ROW + 2  # 0-based row of the first check of the full list
PRINT_CELL: Final = (0, 6)  # G1, always empty: the panel's print area
RANK_COL: Final = 7  # H, hidden: the rank of an open check (0 when it passes)
TARGET_COL: Final = 8  # I, hidden: "#'表'!C5", where the check's link goes
ERRORS_CELL: Final = (1, RANK_COL)  # H2: errors still open
OPEN_CELL: Final = (2, RANK_COL)  # H3: checks still open, of any severity


def _abs(row: int, col: int) -> str:
    ref = a1(row, col)
    letters = ref.rstrip("0123456789")
    return f"${letters}${ref[len(letters) :]}"


def _column(col: int, count: int) -> str:
    return f"{_abs(FIRST_ROW, col)}:{_abs(FIRST_ROW + max(count, 1) - 1, col)}"


def top_formulas(count: int) -> dict[tuple[int, int], str]:
    """(row, col) -> formula of every helper and top-block cell, for ``count`` checks."""
    status, label = _column(4, count), _column(1, count)
    out = {
        ERRORS_CELL: f'=COUNTIFS({label},"{ERROR_LABEL}",{status},"{TODO}")',
        OPEN_CELL: f'=COUNTIF({status},"{TODO}")',
    }
    errors = _abs(*ERRORS_CELL)
    first_label, first_status = _abs(FIRST_ROW, 1), _abs(FIRST_ROW, 4)
    for index in range(count):
        row = FIRST_ROW + index
        here_label, here_status = a1(row, 1), a1(row, 4)
        labels, statuses = f"{first_label}:{here_label}", f"{first_status}:{here_status}"
        # errors rank 1.., the others after every error: each in the order of the list
        out[(row, RANK_COL)] = (
            f'=IF({here_status}="{TODO}",IF({here_label}="{ERROR_LABEL}",'
            f'COUNTIFS({labels},"{ERROR_LABEL}",{statuses},"{TODO}"),'
            f'{errors}+COUNTIFS({labels},"<>{ERROR_LABEL}",{statuses},"{TODO}")),0)'
        )
    ranks, targets = _column(RANK_COL, count), _column(TARGET_COL, count)
    for slot in range(TOP_SLOTS):
        row, k = TOP_FIRST + slot, slot + 1
        at = "$" + a1(row, 4)  # E: the check's 序号 in the full list, "" for an empty slot
        pick = {col: f"INDEX({_column(col, count)},{at})" for col in (1, 2, 3)}
        out[(row, 4)] = f'=IFERROR(MATCH({k},{ranks},0),"")'
        out[(row, 0)] = f'=IF({at}="","",{k})'
        out[(row, 1)] = f'=IF({at}="","",{pick[1]})'
        out[(row, 2)] = f'=IF({at}="","",{pick[2]})'
        # &"" because INDEX of an empty cell is 0, not ""
        out[(row, 3)] = (
            f'=IF({at}="","",IF(INDEX({targets},{at})="","",'
            f'HYPERLINK(INDEX({targets},{at}),{pick[3]}&"")))'
        )
    opened = _abs(*OPEN_CELL)
    out[(MORE_ROW, 0)] = (
        f'=IF({opened}=0,"没有待处理的问题。",IF({opened}>{TOP_SLOTS},'
        f'"另有 "&({opened}-{TOP_SLOTS})&" 项待处理，见下方全部检查中标色的行。",""))'
    )
    return out


def open_order(labels: Sequence[str], statuses: Sequence[str]) -> list[int]:
    """Indexes of the open checks as the top block lists them: errors, then the others."""
    open_ = [i for i, s in enumerate(statuses) if s == TODO]
    return [i for i in open_ if labels[i] == ERROR_LABEL] + [
        i for i in open_ if labels[i] != ERROR_LABEL
    ]


def top_values(
    labels: Sequence[str],
    messages: Sequence[str],
    shown: Sequence[str],
    statuses: Sequence[str],
) -> dict[tuple[int, int], str | int]:
    """What :func:`top_formulas` evaluate to: ``shown`` is each check's link text ("" when
    it has none)."""
    order = open_order(labels, statuses)
    rank = {index: k for k, index in enumerate(order, 1)}
    errors = sum(1 for i in order if labels[i] == ERROR_LABEL)
    out: dict[tuple[int, int], str | int] = {ERRORS_CELL: errors, OPEN_CELL: len(order)}
    for index in range(len(statuses)):
        out[(FIRST_ROW + index, RANK_COL)] = rank.get(index, 0)
    for slot in range(TOP_SLOTS):
        row = TOP_FIRST + slot
        if slot < len(order):
            index = order[slot]
            values: tuple[str | int, ...] = (
                slot + 1, labels[index], messages[index], shown[index], index + 1
            )  # fmt: skip
        else:
            values = ("", "", "", "", "")
        out.update({(row, col): value for col, value in enumerate(values)})
    out[(MORE_ROW, 0)] = more_text(len(order))
    return out


def more_text(open_checks: int) -> str:
    """The line under the top slots, as its formula shows it for ``open_checks`` open."""
    if not open_checks:
        return "没有待处理的问题。"
    more = open_checks - TOP_SLOTS
    return f"另有 {more} 项待处理，见下方全部检查中标色的行。" if more > 0 else ""
