"""``check --manifest``: a return against the distribution record the finance bureau kept.

The stamp inside a workbook (bureau, pre-filled values, fingerprint) travels with the file, so
whoever edits the file can rewrite it and compute a matching fingerprint: the stamp alone
proves only that the file is consistent. The manifest that ``generate --roster`` wrote stays
with the bureau that sent the copies. A return whose fingerprint is not the one issued to its
bureau for that template was not sent to it as it stands: pre-filled targets or weights were
changed, the copy is another bureau's, or it comes from another distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..status import Bureau, RosterError, read_bureaus
from .report import Finding, Report


class ManifestError(ValueError):
    """The manifest cannot be used; the message says where and what to do (Chinese)."""


@dataclass(frozen=True)
class Manifest:
    path: Path
    issued: dict[tuple[str, str], Bureau]  # (bureau_id, template) -> what was sent

    @classmethod
    def of(cls, path: Path, bureaus: Sequence[Bureau]) -> Manifest:
        return cls(path, {(b.bureau_id, b.template): b for b in bureaus})

    @staticmethod
    def holds(bureaus: Sequence[Bureau]) -> bool:
        """Whether these roster rows are a distribution manifest (each copy's template and
        fingerprint), not a plain roster."""
        return bool(bureaus) and all(b.fingerprint and b.template for b in bureaus)

    def for_bureau(self, bureau_id: str) -> list[Bureau]:
        return [b for (bureau, _), b in self.issued.items() if bureau == bureau_id]


def load_manifest(path: Path) -> Manifest:
    """The distribution manifest (``manifest.csv`` of ``generate --roster``, or the same table
    as .xlsx); it must hold each copy's template and fingerprint."""
    try:
        bureaus = read_bureaus(path)
    except RosterError as error:
        raise ManifestError(str(error).replace("[status-roster-", "[manifest-")) from None
    except OSError as error:
        raise ManifestError(
            f"{path}: [manifest-unreadable] 无法读取下发清单：{error.strerror or error}"
        ) from None
    if not Manifest.holds(bureaus):
        missing = [b.bureau_id for b in bureaus if not b.fingerprint or not b.template]
        raise ManifestError(
            f"{path}: [manifest-no-fingerprint] 清单中单位 {(missing or ['?'])[0]} 没有 template 或 fingerprint："
            "--manifest 需要 xltools generate --roster 写出的 manifest.csv（名册本身不够）；"
            "只想看谁已交、谁未交，请用 xltools status"
        )
    return Manifest.of(path, bureaus)


@dataclass(frozen=True)
class Mismatch:
    code: str
    message: str  # Chinese: what is wrong and what to do
    expected: str = ""
    found: str = ""


def mismatch(bureau_id: str, template: str, stamp: str, manifest: Manifest) -> Mismatch | None:
    """Why a return of ``template`` stamped ``stamp`` for ``bureau_id`` is not the copy the
    manifest says was sent (None when it is)."""
    where = f"（下发清单 {manifest.path.name}）"
    if not bureau_id or not stamp:
        return Mismatch(
            "manifest-not-issued",
            f"这份工作簿没有下发标识，不是按名册下发给某个单位的那一份{where}。"
            "请用下发给本单位的工作簿填写后重新提交。",
        )
    issued = manifest.issued.get((bureau_id, template))
    if issued is None:
        others: Sequence[Bureau] = manifest.for_bureau(bureau_id)
        detail = (
            f"清单中单位 {bureau_id} 下发的是 {'、'.join(b.template for b in others)}"
            if others
            else f"清单中没有单位 {bureau_id}"
        )
        return Mismatch(
            "manifest-not-issued",
            f"{detail}{where}：这份 {template} 不是下发给它的。请核对单位与表式。",
            found=f"{bureau_id} / {template}",
        )
    if issued.fingerprint != stamp:
        return Mismatch(
            "manifest-fingerprint-mismatch",
            f"下发标识与下发清单中发给 {issued.name or issued.bureau_id} 的不一致{where}："
            "预填内容（指标、目标值、分值等）或单位被改动，或这是另一批次下发的文件。"
            "请用下发给本单位的原始工作簿重新填写后提交。",
            expected=issued.fingerprint,
            found=stamp,
        )
    return None


def compare(report: Report, manifest: Manifest) -> None:
    """An error in ``report`` when the return is not what the manifest says was sent."""
    if not report.template:
        return  # not identified: the report already says why
    found = mismatch(report.bureau_id, report.template, report.stamp, manifest)
    if found is not None:
        report.add(
            Finding("error", found.code, found.message, expected=found.expected, found=found.found)
        )
