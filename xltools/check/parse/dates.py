"""Dates: real dates, Excel serial numbers and the ways a date is written as text."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Final

from .common import (
    Cell,
    Parsed,
    _ambiguous,
    _converted,
    _decimal,
    _fmt,
    _invalid,
    _ok,
    _quote,
    _unexpected,
    half_width,
)

# ---- dates --------------------------------------------------------------------------------------

_EXCEL_EPOCH: Final = dt.date(1899, 12, 30)
_FIRST_DATE: Final = dt.date(1990, 1, 1)
_LAST_DATE: Final = dt.date(2099, 12, 31)
_SERIAL_MIN: Final = (_FIRST_DATE - _EXCEL_EPOCH).days
_SERIAL_MAX: Final = (_LAST_DATE - _EXCEL_EPOCH).days

_YMD_RE: Final = re.compile(
    r"^(?P<y>[0-9]{4})\s*(?:年\s*(?P<m1>[0-9]{1,2})\s*月\s*(?P<d1>[0-9]{1,2})\s*[日号]?"
    r"|(?P<sep>[-/.])\s*(?P<m2>[0-9]{1,2})\s*(?P=sep)\s*(?P<d2>[0-9]{1,2})(?![0-9]))(?P<rest>.*)$",
    re.S,
)
_TIME_RE: Final = re.compile(r"^(?:\s+|\s*T)[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?$")
_YYYYMMDD_RE: Final = re.compile(r"^[0-9]{8}$")
_SERIAL_RE: Final = re.compile(r"^[0-9]{5}(?:\.[0-9]+)?$")
_YM_RE: Final = re.compile(
    r"^(?P<y>[0-9]{4})\s*(?:年\s*(?P<m1>[0-9]{1,2})\s*月份?|[-/.]\s*(?P<m2>[0-9]{1,2}))"
    r"(?:[^-/.0-9].*)?$",
    re.S,
)
_MD_RE: Final = re.compile(
    r"^(?:(?P<m1>[0-9]{1,2})\s*月\s*(?P<d1>[0-9]{1,2})\s*[日号]?(?:[^0-9].*)?"
    r"|(?P<m2>[0-9]{1,2})\s*[-/]\s*(?P<d2>[0-9]{1,2}))$",
    re.S,
)
_YEAR_RE: Final = re.compile(r"^[0-9]{4}\s*年(?:底|末|内|度|中)?$")
_ORDER_RE: Final = re.compile(r"^[0-9]{1,2}\s*([-/.])\s*[0-9]{1,2}\s*\1\s*[0-9]{4}$")
_TWO_DIGIT_YEAR_RE: Final = re.compile(
    r"^(?:[0-9]{2}\s*([-/.])\s*[0-9]{1,2}\s*\1\s*[0-9]{1,2}|[0-9]{2}年[0-9]{1,2}月[0-9]{1,2}日?)$"
)


def _make_date(year: int, month: int, day: int, text: str) -> dt.date | Parsed:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return _invalid(
            "parse-impossible-date",
            f"{_quote(text)} 不是存在的日期（{year} 年 {month} 月 {day} 日）；请核对",
        )


def _from_serial(serial: float, shown: str) -> Parsed:
    if serial.is_integer() and 1900 <= serial <= 2100:
        return _ambiguous(
            "parse-date-year-only",
            f"{shown} 只有年份，本栏需要具体日期；请填写例如 {int(serial)}-12-31",
        )
    if 10_000_000 <= serial <= 99_999_999 and serial.is_integer():
        text = str(int(serial))
        date = _make_date(int(text[:4]), int(text[4:6]), int(text[6:]), text)
        if isinstance(date, Parsed):
            return date
        return _converted(date, "parse-date-text", f"{shown} 按 {date.isoformat()} 读取")
    if _SERIAL_MIN <= serial <= _SERIAL_MAX:
        date = _EXCEL_EPOCH + dt.timedelta(days=int(serial))
        return _converted(
            date,
            "parse-date-serial",
            f"{shown} 按 Excel 日期序号读取为 {date.isoformat()}；请把单元格格式设为日期",
        )
    return _invalid(
        "parse-not-a-date",
        f"{shown} 不是日期；请填写日期，例如 2023-12-31",
    )


def _parse_date_text(text: str) -> Parsed:
    norm = half_width(text).strip()
    if _SERIAL_RE.match(norm):
        return _from_serial(float(norm), f"文本 {_quote(text)}")
    if _YYYYMMDD_RE.match(norm):
        return _from_serial(float(norm), f"文本 {_quote(text)}")
    m = _YMD_RE.match(norm)
    if m is not None:
        year = int(m["y"])
        month = int(m["m1"] or m["m2"])
        day = int(m["d1"] or m["d2"])
        rest = m["rest"]
        if rest and not _TIME_RE.match(rest):
            if rest.lstrip()[:1].isdigit():
                return _not_a_date(text)
            return _ambiguous(
                "parse-date-extra-text",
                f"{_quote(text)} 在日期外还有文字；本栏只填日期（例如 {year}-{month:02d}-{day:02d}），"
                "说明请写在备注或原因栏",
            )
        date = _make_date(year, month, day, text)
        if isinstance(date, Parsed):
            return date
        return _converted(
            date, "parse-date-text", f"文本 {_quote(text)} 按 {date.isoformat()} 读取"
        )
    m = _YM_RE.match(norm)
    if m is not None:
        month = int(m["m1"] or m["m2"])
        if not 1 <= month <= 12:
            return _invalid(
                "parse-impossible-date", f"{_quote(text)} 的月份 {month} 不存在；请核对"
            )
        return _ambiguous(
            "parse-date-no-day",
            f"{_quote(text)} 缺少日，本栏需要具体日期；请补全，例如 {m['y']}-{month:02d}-15",
        )
    if _MD_RE.match(norm):
        return _ambiguous(
            "parse-date-no-year", f"{_quote(text)} 缺少年份；请填写完整日期，例如 2023-12-31"
        )
    if _YEAR_RE.match(norm):
        return _ambiguous(
            "parse-date-year-only",
            f"{_quote(text)} 只有年份，本栏需要具体日期；请填写例如 {norm[:4]}-12-31",
        )
    if _ORDER_RE.match(norm):
        return _ambiguous(
            "parse-date-order",
            f"{_quote(text)} 的日、月顺序不明；请按 年-月-日 填写，例如 2023-03-15",
        )
    if _TWO_DIGIT_YEAR_RE.match(norm):
        return _ambiguous(
            "parse-date-two-digit-year",
            f"{_quote(text)} 只有两位年份；请填写四位年份，例如 2023-03-15",
        )
    return _not_a_date(text)


def _not_a_date(text: str) -> Parsed:
    return _invalid("parse-not-a-date", f"{_quote(text)} 不是日期；请填写日期，例如 2023-12-31")


def _parse_date(raw: Cell, unit: str | None, choices: Sequence[str] | None) -> Parsed:
    if isinstance(raw, dt.datetime):
        if raw.time() == dt.time(0):
            return _ok(raw.date())
        return _converted(
            raw.date(),
            "parse-date-time-dropped",
            f"单元格含时刻 {raw.time().isoformat()}，按日期 {raw.date().isoformat()} 读取",
        )
    if isinstance(raw, dt.date):
        return _ok(raw)
    if isinstance(raw, bool):
        return _invalid("parse-not-a-date", "单元格是逻辑值，本栏需要日期，例如 2023-12-31")
    if isinstance(raw, int | float):
        if isinstance(raw, float) and not math.isfinite(raw):
            return _invalid("parse-not-finite", f"{raw} 不是日期；请填写日期，例如 2023-12-31")
        shown = f"数值 {_fmt(_decimal(raw))}"
        if abs(raw) > 1e12:
            return _invalid("parse-not-a-date", f"{shown} 不是日期；请填写日期，例如 2023-12-31")
        return _from_serial(float(raw), shown)
    if isinstance(raw, str):
        return _parse_date_text(raw)
    return _unexpected(raw)
