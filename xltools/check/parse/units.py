"""Units written after a number: 万/亿 magnitudes, 元-family money units, counting units, and
scaling a number into the field's unit (``_apply_unit``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from .common import Parsed, _ambiguous, _fmt, _invalid, _quote

# Units a count is given in: stripped where no other unit is declared.
COUNT_UNITS: Final = frozenset(
    [
        "人",
        "个",
        "项",
        "次",
        "家",
        "人次",
        "件",
        "户",
        "台",
        "套",
        "所",
        "座",
        "场",
        "期",
        "篇",
        "份",
        "名",
        "批",
        "处",
        "条",
        "辆",
        "本",
        "册",
        "张",
        "株",
        "棵",
        "头",
        "只",
        "间",
        "栋",
        "村",
        "校",
        "吨",
        "亩",
        "公顷",
        "公里",
        "千米",
        "米",
        "平方米",
        "平方公里",
        "立方米",
        "千克",
        "公斤",
        "天",
        "日",
        "小时",
        "个月",
        "周",
        "年",
        "分钟",
        "千瓦",
        "兆瓦",
    ]
)
MONEY_UNITS: Final[dict[str, Decimal]] = {
    "元": Decimal(1),
    "千元": Decimal(1000),
    "万元": Decimal(10_000),
    "百万元": Decimal(1_000_000),
    "亿元": Decimal(100_000_000),
}
MAGNITUDES: Final[dict[str, Decimal]] = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}


# ---- units --------------------------------------------------------------------------------------


def _split_unit(unit: str) -> tuple[Decimal, str]:
    """万元 → (10000, 元); 万人次 → (10000, 人次); 万 → (10000, ""); 人 → (1, 人)."""
    if unit in MONEY_UNITS:
        return MONEY_UNITS[unit], "元"
    if unit[:1] in MAGNITUDES:
        return MAGNITUDES[unit[:1]], unit[1:]
    return Decimal(1), unit


def _known_base(base: str, unit_base: str | None) -> bool:
    return base in ("", "元", unit_base) or base in COUNT_UNITS


def _apply_unit(
    number: Decimal, suffix: str, unit: str | None, field_type: str
) -> tuple[Decimal, str, str] | Parsed | None:
    """Scale ``number`` written with ``suffix`` into the field's ``unit``: (value, code, how it was
    read), a Parsed when it cannot be done, None when the suffix is no unit at all."""
    if unit and suffix == unit:
        code = "parse-count-unit" if suffix in COUNT_UNITS else "parse-unit-suffix"
        if any(c in suffix for c in "万亿"):
            code = "parse-wan-suffix"
        return number, code, f"单位 {suffix} 与本栏单位一致，已去除"
    s_scale, s_base = _split_unit(suffix)
    u_scale, u_base = _split_unit(unit) if unit else (Decimal(1), None)
    if not _known_base(s_base, u_base):
        return None
    wan = s_scale != 1 and any(c in suffix for c in "万亿")
    written = _quote(_fmt(number) + suffix)
    if unit is None:
        if field_type == "money" and s_base not in ("", "元"):
            return _invalid("parse-unit-mismatch", f"{written} 不是金额；请填写金额数字")
        if s_base == "元" or (wan and field_type in ("money", "any")):
            return _ambiguous(
                "parse-wan-suffix" if wan else "parse-unit-mismatch",
                f"{written} 带单位 {suffix}，但本栏未声明单位，无法确定应记为多少；"
                "请按本栏（或“单位”列）的单位填写纯数字",
            )
        value = number * s_scale
        if wan:
            return value, "parse-wan-suffix", f"1{suffix[:1]} = {_fmt(s_scale)}"
        return value, "parse-count-unit", f"单位 {suffix} 已去除，请核对“单位”列"
    if s_base == u_base or s_base == "":
        value = number * s_scale / u_scale
        rate = f"1{suffix} = {_fmt(s_scale / u_scale)} {unit}" if s_scale != u_scale else ""
        if wan:
            return value, "parse-wan-suffix", rate
        return value, "parse-unit-conversion", rate
    what = f"{written} 的单位 {suffix} 与本栏单位 {unit} 不一致"
    if field_type == "money":
        return _invalid("parse-unit-mismatch", f"{what}；金额请按 {unit} 填写纯数字")
    return _ambiguous("parse-unit-mismatch", f"{what}；请换算为 {unit} 后填写纯数字")
