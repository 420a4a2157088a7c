"""The merge's spool: a temporary SQLite database (stdlib ``sqlite3``) that receives each
file's rows as soon as the file is checked, so that memory stays flat with any number of
inputs. Every output — the summary workbook, CSV, Parquet, SQLite and the DataFrames of the
Python API — is built from it at the end, through the table definitions below (one place says
what each table holds, in which order, with which headers and number formats).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from .inputs import InputItem
from .safe import FORMULA_TRIGGERS
from .worker import FileResult

Kind = Literal["text", "int", "money", "percent", "score", "any"]

STATUS_LABELS: Final = {
    "accepted": "采纳",
    "superseded": "被替代",
    "rejected": "未采纳",
    "skipped": "跳过",  # not a return: a lock file, a hidden file, a checked copy
}
SEVERITY_LABELS: Final = {"error": "错误", "warning": "警告", "info": "提示"}

_SCHEMA: Final = """
CREATE TABLE files (
    id INTEGER PRIMARY KEY, file TEXT NOT NULL, sha256 TEXT, bytes INTEGER, mtime REAL,
    status TEXT NOT NULL, code TEXT, reason TEXT, superseded_by INTEGER,
    template TEXT, version INTEGER, title TEXT, bureau_id TEXT, unit TEXT, project TEXT,
    funds_initial REAL, funds_budget REAL, funds_spent REAL, execution_rate REAL,
    total REAL, grade TEXT, errors INTEGER, warnings INTEGER, infos INTEGER, seconds REAL,
    saved TEXT
);
CREATE TABLE group_scores (
    file_id INTEGER NOT NULL, ord INTEGER, key TEXT, label TEXT, score REAL, weight REAL
);
CREATE TABLE indicators (
    file_id INTEGER NOT NULL, seq INTEGER, level1, level2, level3, op, target, actual,
    measure_unit, weight, score, reason
);
CREATE TABLE findings (
    file_id INTEGER NOT NULL, seq INTEGER, severity TEXT, code TEXT, sheet TEXT, cell TEXT,
    field TEXT, message TEXT, expected TEXT, found TEXT, label TEXT
);
"""
_INDEXES: Final = """
CREATE INDEX IF NOT EXISTS group_scores_file ON group_scores (file_id, key);
CREATE INDEX IF NOT EXISTS indicators_file ON indicators (file_id, seq);
CREATE INDEX IF NOT EXISTS findings_file ON findings (file_id, seq);
"""


class Spool:
    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self.connection = sqlite3.connect(path)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "temp_store = FILE"):
            self.connection.execute(f"PRAGMA {pragma}")
        if create:
            self.connection.executescript(_SCHEMA)
        self._pending = 0

    @classmethod
    def reopen(cls, path: Path) -> Spool:
        """A finished spool opened again, to be read (by another process)."""
        return cls(path, create=False)

    def close(self) -> None:
        self.connection.close()

    def add_refused(self, index: int, item: InputItem, sha256: str, size: int | None) -> None:
        self.connection.execute(
            "INSERT INTO files (id, file, sha256, bytes, mtime, status, code, reason, errors,"
            " warnings, infos) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0)",
            (
                index,
                item.display,
                sha256,
                size,
                item.mtime,
                "skipped" if item.skipped else "rejected",
                item.code,
                item.reason,
            ),
        )
        # Its reason is its finding, so that 问题清单 names every input with a problem.
        severity = "info" if item.skipped else "error"
        self.connection.execute(
            "INSERT INTO findings VALUES (?, 0, ?, ?, '', '', '', ?, '', '', '')",
            (index, severity, item.code, item.reason),
        )
        self._tick()

    def add_result(self, index: int, display: str, result: FileResult, mtime: float) -> None:
        status = "candidate" if result.candidate else "rejected"
        funds = result.funds
        self.connection.execute(
            "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                index,
                display,
                result.sha256,
                result.bytes,
                mtime,
                status,
                result.reject_code or None,
                result.reject_reason or None,
                result.template or None,
                result.version or None,
                result.title or None,
                result.bureau_id,
                result.unit,
                result.project,
                funds.get("funds_initial"),
                funds.get("funds_budget"),
                funds.get("funds_spent"),
                funds.get("execution_rate"),
                result.total,
                result.grade,
                result.errors,
                result.warnings,
                result.infos,
                result.seconds,
                result.saved or None,
            ),
        )
        if result.candidate:
            self.connection.executemany(
                "INSERT INTO group_scores VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (index, n, g.key, g.label, g.score, g.weight)
                    for n, g in enumerate(result.groups)
                ],
            )
            self.connection.executemany(
                "INSERT INTO indicators VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(index, n, *row) for n, row in enumerate(result.indicators)],
            )
        self.connection.executemany(
            "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(index, n, *finding) for n, finding in enumerate(result.findings)],
        )
        self._tick()

    def _tick(self) -> None:
        self._pending += 1
        if self._pending >= 500:
            self.connection.commit()
            self._pending = 0

    def set_status(self, updates: list[tuple[str, str, str, int | None, int]]) -> None:
        """(status, code, reason, superseded_by, id) for each file whose status is decided."""
        self.connection.executemany(
            "UPDATE files SET status = ?, code = ?, reason = ?, superseded_by = ? WHERE id = ?",
            updates,
        )

    def finish(self) -> None:
        self.connection.execute("UPDATE files SET status = 'accepted' WHERE status = 'candidate'")
        self.connection.executescript(_INDEXES)
        self.connection.commit()

    def counts(self) -> dict[str, int]:
        found = dict(self.connection.execute("SELECT status, COUNT(*) FROM files GROUP BY status"))
        return {status: int(found.get(status, 0)) for status in STATUS_LABELS}

    def file_name(self, index: int) -> str:
        row = self.connection.execute("SELECT file FROM files WHERE id = ?", (index,)).fetchone()
        return str(row[0]) if row else ""


# ---- the output tables ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # column name in CSV, Parquet, SQLite and the DataFrames
    header: str  # Chinese header in the summary workbook
    kind: Kind
    sql: str  # expression over the table's FROM clause
    labels: Mapping[str, str] | None = None  # shown instead of the value in the workbook
    width: float = 12
    #: In the workbook: what people read instead of ``sql`` (a template's title for its id)
    sheet_sql: str | None = None
    #: Hidden in the workbook: ids for machines and support (still there, and in the CSV)
    hidden: bool = False


@dataclass(frozen=True)
class Table:
    key: str  # file name of the analyst outputs: summary.csv, indicators.parquet …
    sheet: str
    columns: tuple[Column, ...]
    source: str  # FROM … WHERE … ORDER BY …

    def query(self, *, analyst: bool, sheet: bool | None = None) -> str:
        """The SELECT that yields this table's rows; for the analyst outputs every text is
        neutralised as :func:`~xltools.merge.safe.neutralise` does it (:func:`neutralised_sql`).
        ``sheet`` (default: not ``analyst``) shows what the workbook shows people: a template's
        title where the analyst outputs hold its id."""
        sheet = not analyst if sheet is None else sheet
        parts = []
        for column in self.columns:
            expression = column.sheet_sql if sheet and column.sheet_sql else column.sql
            if analyst and column.kind in ("text", "any"):
                expression = neutralised_sql(expression)
            parts.append(f'{expression} AS "{column.key}"')
        return f"SELECT {', '.join(parts)} {self.source}"

    def count(self, spool: Spool) -> int:
        row = spool.connection.execute(f"SELECT COUNT(*) {self.source}").fetchone()
        return int(row[0])

    def rows(
        self, spool: Spool, *, analyst: bool, batch: int = 2000, sheet: bool | None = None
    ) -> Iterator[list[tuple[Any, ...]]]:
        cursor = spool.connection.execute(self.query(analyst=analyst, sheet=sheet))
        while rows := cursor.fetchmany(batch):
            yield rows


_TRIGGER_CODES: Final = ", ".join(str(ord(c)) for c in FORMULA_TRIGGERS)


def neutralised_sql(expression: str) -> str:
    """SQL for :func:`~xltools.merge.safe.neutralise` of ``expression``: a text whose first
    character is one of :data:`~xltools.merge.safe.FORMULA_TRIGGERS` gets a leading ``'``;
    anything else (numbers, NULL, blobs, other texts) is left as it is. The same values as
    calling the Python function, without a call into Python for every value."""
    return (
        f"CASE WHEN typeof({expression}) = 'text' AND unicode({expression}) IN ({_TRIGGER_CODES})"
        f" THEN '''' || {expression} ELSE {expression} END"
    )


def _c(
    key: str,
    header: str,
    kind: Kind = "text",
    sql: str | None = None,
    labels: Mapping[str, str] | None = None,
    width: float = 12,
    sheet_sql: str | None = None,
    hidden: bool = False,
) -> Column:
    return Column(key, header, kind, sql or f"f.{key}", labels, width, sheet_sql, hidden)


#: Hidden columns are as wide as their ids, so an id never makes a row of the sheet taller
#: (a row's height counts every cell, hidden or not, as the overflow check measures it).
HIDDEN_WIDTH: Final = 48.0
SHA_WIDTH: Final = 72.0

#: People know a template by its title; the id stays in the analyst outputs (see 字段说明).
TEMPLATE_TITLE: Final = "COALESCE(NULLIF(f.title, ''), f.template)"

_FILE_COLUMNS: Final = (
    _c("template", "模板", width=18, sheet_sql=TEMPLATE_TITLE),
    _c("bureau_id", "单位编号", width=9),
    _c("unit", "单位", width=14),
    _c("project", "项目", width=16),
)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def summary_table(spool: Spool) -> Table:
    """One row per accepted workbook; one score column per top-level indicator group of the
    templates that were merged."""
    groups = spool.connection.execute(
        "SELECT g.key, MIN(g.label), MIN(g.ord) FROM group_scores g JOIN files f"
        " ON f.id = g.file_id WHERE f.status = 'accepted' GROUP BY g.key ORDER BY MIN(g.ord), g.key"
    ).fetchall()
    seen: set[str] = set()
    group_columns = []
    for key, label, _ in groups:
        header = f"{label}得分"
        if header.lower() in seen:
            header = f"{label}（{key}）得分"
        seen.add(header.lower())
        group_columns.append(
            _c(
                f"score_{key}",
                header,
                "score",
                "(SELECT g.score FROM group_scores g WHERE g.file_id = f.id AND g.key = "
                f"{_sql_text(key)} LIMIT 1)",
                width=7.5,
            )
        )
    columns = (
        _c("template", "模板编号", width=HIDDEN_WIDTH, hidden=True),
        _c("version", "版本", "int", width=5),
        _c("title", "模板", width=20),
        *_FILE_COLUMNS[1:],
        _c("funds_initial", "年初预算数", "money", width=11),
        _c("funds_budget", "全年预算数", "money", width=11),
        _c("funds_spent", "全年执行数", "money", width=11),
        _c("execution_rate", "执行率", "percent", width=8.5),
        *group_columns,
        _c("total", "总分", "score", width=7.5),
        _c("grade", "等次", width=6),
        _c("errors", "错误数", "int", width=6),
        _c("warnings", "警告数", "int", width=6),
        _c("infos", "提示数", "int", width=6),
        _c("file", "文件", width=26),
        _c("sha256", "SHA-256", width=SHA_WIDTH, hidden=True),
    )
    return Table(
        "summary",
        "汇总",
        columns,
        "FROM files f WHERE f.status = 'accepted' ORDER BY f.template, f.bureau_id, f.unit,"
        " f.project, f.id",
    )


INDICATORS: Final = Table(
    "indicators",
    "指标明细",
    (
        *_FILE_COLUMNS,
        _c("level1", "一级指标", sql="i.level1", width=9),
        _c("level2", "二级指标", sql="i.level2", width=10),
        _c("level3", "三级指标", sql="i.level3", width=20),
        _c("op", "符号", sql="i.op", width=5),
        _c("target", "年度指标值", "any", "i.target", width=14),
        _c("actual", "实际完成值", "any", "i.actual", width=14),
        _c("measure_unit", "计量单位", sql="i.measure_unit", width=6),
        _c("weight", "分值", "score", "i.weight", width=6.5),
        _c("score", "得分", "score", "i.score", width=6.5),
        _c("reason", "偏差原因分析及改进措施", sql="i.reason", width=30),
        _c("file", "文件", width=24),
    ),
    "FROM indicators i JOIN files f ON f.id = i.file_id WHERE f.status = 'accepted'"
    " ORDER BY f.template, f.bureau_id, f.unit, f.project, f.id, i.seq",
)

FINDINGS: Final = Table(
    "findings",
    "问题清单",
    (
        _c("file", "文件", width=24),
        _c("status", "文件状态", labels=STATUS_LABELS, width=6),
        _c("severity", "级别", sql="x.severity", labels=SEVERITY_LABELS, width=6),
        _c("sheet", "工作表", sql="x.sheet", width=14),
        _c("cell", "单元格", sql="x.cell", width=7),
        _c("label", "字段", sql="x.label", width=20),
        _c("message", "说明", sql="x.message", width=44),
        _c("expected", "期望", sql="x.expected", width=14),
        _c("found", "实际", sql="x.found", width=22),
        _c("code", "代码", sql="x.code", width=HIDDEN_WIDTH, hidden=True),
        _c("field", "字段编号", sql="x.field", width=HIDDEN_WIDTH, hidden=True),
    ),
    "FROM findings x JOIN files f ON f.id = x.file_id ORDER BY f.id, x.seq",
)

REJECTED: Final = Table(
    "rejected",
    "未采纳",
    (
        _c("file", "文件", width=24),
        _c("status", "状态", labels=STATUS_LABELS, width=6),
        _c("code", "代码", width=HIDDEN_WIDTH, hidden=True),
        _c("reason", "原因", width=44),
        _c("superseded_by", "替代它的文件", sql="w.file", width=24),
        *_FILE_COLUMNS,
        _c("sha256", "SHA-256", width=SHA_WIDTH, hidden=True),
    ),
    "FROM files f LEFT JOIN files w ON w.id = f.superseded_by"
    " WHERE f.status IN ('rejected', 'superseded', 'skipped') ORDER BY f.id",
)

MANIFEST: Final = Table(
    "manifest",
    "清单",
    (
        _c("seq", "序号", "int", "f.id + 1", width=5),
        _c("file", "文件", width=24),
        _c("sha256", "SHA-256", width=SHA_WIDTH, hidden=True),
        _c("bytes", "大小（字节）", "int", width=9),
        _c("saved", "工作簿保存时间", width=11),
        _c(
            "modified",
            "文件修改时间",
            sql="CASE WHEN f.mtime IS NULL THEN NULL"
            " ELSE datetime(f.mtime, 'unixepoch', 'localtime') END",
            width=11,
        ),
        _c("status", "状态", labels=STATUS_LABELS, width=6),
        _c("code", "代码", width=HIDDEN_WIDTH, hidden=True),
        _c("reason", "原因", width=36),
        *_FILE_COLUMNS,
        _c("version", "版本", "int", width=5),
        _c("errors", "错误数", "int", width=6),
        _c("warnings", "警告数", "int", width=6),
        _c("infos", "提示数", "int", width=6),
    ),
    "FROM files f ORDER BY f.id",
)


def tables(spool: Spool) -> list[Table]:
    """Every output table, in the order of the summary workbook's sheets."""
    return [summary_table(spool), INDICATORS, FINDINGS, REJECTED, MANIFEST]
