"""A submission record: the mail desk's or the upload portal's list of when each file
arrived (CSV, UTF-8 with or without BOM, columns ``file`` and ``submitted_at``), for
``merge --supersede submitted``. Read whole and checked before any file is."""

from __future__ import annotations

import csv
from pathlib import Path

from .inputs import InputError
from .supersede import parse_time

FILE_COLUMN, TIME_COLUMN = "file", "submitted_at"


def read_submissions(path: Path) -> dict[str, float]:
    """file name -> seconds since the epoch. Raises InputError (a usage error) naming the row
    of a missing column, an empty name, a time that is not one, or a file listed twice."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(
            f"[usage-submissions-unreadable] 无法读取提交记录 “{path}”：{error}；"
            "请提供 UTF-8 编码的 CSV 文件（列 file, submitted_at）"
        ) from error
    rows = csv.DictReader(text.splitlines())
    header = [h.strip() for h in rows.fieldnames or []]
    if FILE_COLUMN not in header or TIME_COLUMN not in header:
        raise InputError(
            f"[usage-submissions-columns] 提交记录 “{path}” 缺少列 {FILE_COLUMN} 或 "
            f"{TIME_COLUMN}（现有列：{'、'.join(header) or '无'}）"
        )
    record: dict[str, float] = {}
    for number, row in enumerate(rows, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        name, when = row[FILE_COLUMN], row[TIME_COLUMN]
        if not name and not when:
            continue
        seconds = parse_time(when)
        if not name or seconds is None:
            raise InputError(
                f"[usage-submissions-row] 提交记录 “{path}” 第 {number} 行：文件名为空或时间 "
                f"“{when}” 无法识别（请写成 2024-03-01 09:30 或 2024-03-01T09:30:00+08:00）"
            )
        if name in record:
            raise InputError(
                f"[usage-submissions-duplicate] 提交记录 “{path}” 第 {number} 行：文件 “{name}” "
                "重复出现；每个文件只应有一个提交时间"
            )
        record[name] = seconds
    return record
