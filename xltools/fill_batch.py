"""``xltools fill TEMPLATE DATA -o FOLDER`` for many returns in one call.

DATA is a table (.csv in UTF-8, or .xlsx) with one row per return, or a YAML/JSON list, or a
folder of YAML/JSON data files (one return each, named after its file: 甲县.yaml gives
甲县.xlsx). A table's columns are field ids or field
labels (a label that names several fields, as 实际完成值 does, must be given as the field id),
plus an optional ``file`` / ``文件名`` column naming the output; without one, the output is
named after the unit (and project) the row fills in, else after the row. Text cells are read as
a careful reviewer would (``95%``, ``1,234.5``, ``63万``), as rosters are.

The template is read and parsed once (:class:`~xltools.fill.LoadedTemplate`); each return then
costs its recomputation and one package write, which is why this is about as fast per return
as ``generate --roster``. Every row is accounted for: a bad row is reported by row and column
and nothing is written for it; the others are written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fill import FillError, LoadedTemplate, flatten
from .spec.build import did_you_mean
from .spec.model import Spec

NAME_COLUMNS = ("file", "文件", "文件名", "输出文件")
TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm")
DATA_SUFFIXES = (".yaml", ".yml", ".json")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


class BatchError(ValueError):
    """DATA as a whole cannot be used (unreadable, a column no field has): nothing written."""


@dataclass(frozen=True)
class BatchRow:
    where: str  # as the person who made DATA sees it: "第 3 行" or "甲县.yaml"
    values: dict[str, Any]
    output: str = ""  # the file name asked for, or "" (named after the unit)
    default_name: str = ""  # when neither is given
    problem: FillError | None = None  # the row could not be read at all
    headers: Mapping[str, str] = field(default_factory=dict)  # field id -> its column's label


@dataclass
class BatchResult:
    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each: where, column, code
    failed: int = 0  # rows with a problem


def is_batch(data: Path) -> bool:
    """A folder, a table, or a YAML/JSON file whose top level is a list."""
    if data.is_dir() or data.suffix.lower() in TABLE_SUFFIXES:
        return True
    try:
        head = data.read_text(encoding="utf-8-sig").lstrip()
    except (OSError, UnicodeDecodeError):
        return False
    return head.startswith(("-", "["))


def read_batch(data: Path, spec: Spec) -> list[BatchRow]:
    if data.is_dir():
        return _read_folder(data)
    from .roster import RosterError, read_roster

    try:
        rows = read_roster(data)
    except RosterError as error:
        raise BatchError(f"{data}: [fill-bad-data] {error}") from error
    columns = _columns(spec, {key for row in rows for key in row.values})
    # problems name the column as the table writes it (a label, when a label was used)
    headers = {target: header for header, target in columns.items() if target != header}
    result = []
    for row in rows:
        values: dict[str, Any] = {}
        output = ""
        for header, value in row.values.items():
            target = columns[header]
            if target == "":
                output = str(value).strip()
            else:
                values[target] = value
        where = f"第 {row.row} 行"
        result.append(BatchRow(where, values, output, f"第{row.row}行", headers=headers))
    return result


def _read_folder(folder: Path) -> list[BatchRow]:
    import yaml

    rows = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "~$")) or path.suffix.lower() not in DATA_SUFFIXES:
            continue
        problem = None
        content: Any = None
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except Exception as error:  # YAML syntax, encoding: this file only
            problem = FillError("-", "fill-bad-data", f"无法读取数据文件：{error}")
        if problem is None and not isinstance(content, dict):
            problem = FillError("-", "fill-bad-data", "数据文件的顶层应是 字段id: 值 的映射")
        values = flatten(content) if problem is None else {}
        # named after its data file: 甲县.yaml gives 甲县.xlsx
        rows.append(BatchRow(path.name, values, path.stem, path.stem, problem))
    if not rows:
        raise BatchError(f"{folder}: [fill-no-data] 文件夹中没有 .yaml、.yml 或 .json 数据文件")
    return rows


def _columns(spec: Spec, headers: Iterable[str]) -> dict[str, str]:
    """header -> field id ("" for the output-name column); a header no single field answers to
    is a :class:`BatchError`, listing them all (dropping a column's data silently is worse)."""
    by_label: dict[str, list[str]] = {}
    for item in spec.inputs():
        by_label.setdefault(item.label.strip(), []).append(item.id)
    columns: dict[str, str] = {}
    bad: list[str] = []
    for header in sorted(headers):
        if header in NAME_COLUMNS:
            columns[header] = ""
        elif header in spec.fields:
            columns[header] = header
        elif len(by_label.get(header, [])) == 1:
            columns[header] = by_label[header][0]
        elif header in by_label:
            ids = "、".join(by_label[header][:4])
            bad.append(
                f"[fill-ambiguous-column] 列 “{header}” 是多个字段的标签（{ids}…），请改用字段 id"
            )
        else:
            bad.append(
                f"[fill-unknown-column] 模板中没有字段 “{header}”"
                f"{did_you_mean(header, spec.fields)}（列名应是字段 id 或字段标签，"
                f"或 {'/'.join(NAME_COLUMNS)} 表示输出文件名）"
            )
    if bad:
        raise BatchError("\n".join(bad))
    return columns


def output_name(row: BatchRow, values: Mapping[str, Any]) -> str:
    """The row's file name: asked for, else the unit (and project) it fills in, else its row."""
    from .check.run import UNIT_FIELDS

    name = row.output
    if not name:
        unit = next((str(values[f]).strip() for f in UNIT_FIELDS if values.get(f)), "")
        project = str(values.get("project_name") or "").strip()
        name = "_".join(p for p in (unit, project) if p) or row.default_name
    name = _UNSAFE.sub("_", name).strip(" .") or row.default_name
    return name if name.lower().endswith(".xlsx") else name + ".xlsx"


def fill_batch(
    loaded: LoadedTemplate,
    rows: list[BatchRow],
    out_dir: Path,
    *,
    tick: Callable[[], object] = lambda: None,
) -> BatchResult:
    """One filled workbook per row in ``out_dir``; see the module docstring."""
    from .roster import typed_values

    result = BatchResult()
    taken: dict[str, str] = {}  # output name (case folded) -> the row that has it
    template = loaded.path.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for row in rows:
        problems: list[FillError] = [row.problem] if row.problem else []
        values: dict[str, Any] = {}
        if not problems:
            typed, parsed = typed_values(loaded.spec, row.values, 0)
            problems += [FillError(p.column, p.code, p.message) for p in parsed]
            values = {k: v for k, v in typed.items() if k not in {p.column for p in parsed}}
            name = output_name(row, typed)
            target = out_dir / name
            if name.casefold() in taken:
                problems.append(
                    FillError(
                        "file",
                        "fill-duplicate-output",
                        f"输出文件名 “{name}” 与{taken[name.casefold()]}相同：请在 file 列给出不同的文件名",
                    )
                )
            elif target.resolve() == template:
                problems.append(
                    FillError("file", "usage-overwrite-input", "输出文件不能覆盖输入的模板")
                )
            taken.setdefault(name.casefold(), row.where)
            if not problems:
                problems = loaded.fill(values, target)
                if not problems:
                    result.written.append(target)
        if problems:
            result.failed += 1
            result.problems += [
                f"{row.where}，{row.headers.get(p.field, p.field)} 列: [{p.code}] {p.message}"
                for p in problems
            ]
        tick()
    return result
