"""Which template is this file? Read its metadata and find the spec, or say why not."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..generate.metadata import FORMAT_MARKER, META_SHEET
from ..registry import Registry
from ..spec.model import Spec
from .applications import app_label, drops_hidden_state
from .report import Finding, Report

if TYPE_CHECKING:
    from ..xlsx.reader import RawWorkbook


def read_meta(workbook: RawWorkbook) -> dict[str, str] | None:
    sheet = workbook.sheet(META_SHEET)
    if sheet is None:
        return None
    meta: dict[str, str] = {}
    for row in range(1, sheet.max_row + 1):
        key = sheet.cells.get(f"A{row}")
        value = sheet.cells.get(f"B{row}")
        if key is None or key.value is None:
            continue
        text = value.value if value is not None else ""
        if isinstance(text, float) and text.is_integer():
            text = int(text)
        meta[str(key.value)] = "" if text is None else str(text)
    return meta


def identify(
    workbook: RawWorkbook, registry: Registry, report: Report
) -> tuple[Spec, dict[str, str]] | None:
    """The spec to check with, and the metadata; None (with a finding) when there is none."""
    meta = read_meta(workbook)
    if meta is None or meta.get("format") != FORMAT_MARKER:
        report.add(
            Finding(
                "error",
                "not-a-template",
                "这不是由 xltools 下发的自评表模板（找不到 _xltools 元数据工作表，或它已被删除或改动）。"
                "请使用财政部门下发的模板重新填写。",
            )
        )
        return None
    template = meta.get("template", "")
    try:
        version = int(float(meta.get("version", "0")))
    except ValueError:
        version = 0
    report.template, report.version = template, version
    report.title = meta.get("title", "")
    report.bureau_id, report.bureau_name = meta.get("bureau_id", ""), meta.get("bureau_name", "")
    report.stamp = meta.get("fingerprint", "")
    spec = registry.accepted(template, version)
    if spec is not None:
        state = workbook.sheet(META_SHEET)
        if (
            state is not None
            and state.state == "visible"
            and drops_hidden_state(workbook.application)
        ):
            report.add(
                Finding(
                    "info",
                    "app-hidden-state-dropped",
                    f"此文件由 {app_label(workbook.application)} 保存，该软件保存 xlsx 时不保留"
                    "工作表的隐藏状态，元数据工作表 _xltools 因此可见；其内容已核对。",
                    META_SHEET,
                )
            )
        elif state is not None and state.state == "visible":
            report.add(
                Finding(
                    "warning",
                    "tamper-meta-visible",
                    "元数据工作表 _xltools 被取消隐藏：请勿改动它。",
                    META_SHEET,
                )
            )
        if spec.version == version:  # not one a newer spec accepts as its own layout
            _name_current_version(registry, template, version, report)
        return spec, meta
    known = registry.versions(template)
    if known:
        newest = max(known)
        if version > newest:
            # A version newer than every spec here is not "no longer accepted": telling the
            # unit to fall back to an older template would be wrong. The specs here are out of
            # date, or the metadata was edited.
            message = (
                f"模板 {template} 第 {version} 版比本机规范中最新的第 {newest} 版还新，无法检查："
                "检查所用的规范文件可能未更新（请检查人更新 specs 后重试），或元数据被改动"
                "（请填报单位使用财政部门下发的模板重新填写）。"
            )
        else:
            message = (
                f"模板 {template} 第 {version} 版已不再接受（可接受：第 {'、'.join(map(str, known))} 版）。"
                f"请取得第 {newest} 版模板（{_where(registry, template, newest)}），把内容转填后重新"
                "提交（财政部门可用 xltools migrate 代为转换）。"
            )
        report.add(
            Finding(
                "error",
                "superseded-version",
                message,
                expected=", ".join(map(str, known)),
                found=str(version),
            )
        )
    else:
        report.add(
            Finding(
                "error",
                "unknown-template",
                f"未知的模板 “{template}”（第 {version} 版）：本单位的规范中没有这种自评表。"
                f"请确认提交对象是否正确。{registry.where()}。",
                found=template,
            )
        )
    return None


def _where(registry: Registry, template: str, version: int) -> str:
    """Where the current template is got, as the newest spec says ("" → 向下发单位)."""
    newest = registry.find(template, version)
    obtain = newest.obtain if newest is not None else ""
    return obtain or "向下发模板的财政部门索取"


def _name_current_version(registry: Registry, template: str, version: int, report: Report) -> None:
    """A return on an older version than the newest spec here: say which is current and
    where to get it, and apply the newest spec's policy for old versions (a refusal is an
    error that merge rejects; ``migrate`` tells merge to carry it to the current version)."""
    newest_version = max(registry.versions(template), default=version)
    if newest_version <= version:
        return
    newest = registry.find(template, newest_version)
    policy = newest.old_versions if newest is not None else "accept"
    where = _where(registry, template, newest_version)
    if policy == "refuse":
        report.add(
            Finding(
                "error",
                "superseded-version",
                f"此表使用模板第 {version} 版，现行为第 {newest_version} 版，旧版不再采纳。"
                f"请取得第 {newest_version} 版模板（{where}）重新填写；财政部门可用 xltools "
                "migrate 把已填内容搬到新版。",
                expected=str(newest_version),
                found=str(version),
            )
        )
        return
    then = (
        f"汇总时将迁移到第 {newest_version} 版。"
        if policy == "migrate"
        else f"按第 {version} 版的规范检查；可用 xltools migrate 转为第 {newest_version} 版。"
    )
    report.add(
        Finding(
            "info",
            "old-version-migrate" if policy == "migrate" else "old-version",
            f"此表使用模板第 {version} 版，现行为第 {newest_version} 版（{where}）。{then}",
            expected=str(newest_version),
            found=str(version),
        )
    )
