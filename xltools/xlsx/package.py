"""The zip package: loading the file, opening the zip only after its directory's size is
checked, telling other formats from a damaged workbook, looking parts up, and inflating them
in bounded chunks under :class:`~xltools.xlsx.limits.Limits`, with every failure named as a
:class:`~xltools.xlsx.model.WorkbookReadError`.

Safety
------
* **Size and zip bombs.** Before anything is inflated the file size, the number of zip entries
  (from the end-of-central-directory record, before zipfile parses the directory), and each
  needed part's declared inflated size and ratio are checked against :class:`Limits`. Parts are
  then inflated and parsed in 256 KB chunks while the bytes actually produced are counted, per
  part and in total, stopping as soon as a limit is passed: nothing is ever inflated whole.
  (zipfile itself never yields more than a part's declared size — a part that lies about it
  fails its CRC check — so the running count is the second line of defence.) Only stored and
  deflated entries are read (bzip2 and LZMA cannot be inflated in bounded steps), encrypted
  entries are refused, and so are duplicate part names (which copy would Excel show?).
"""

from __future__ import annotations

import posixpath
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException

from .expat import _expat, _Malformed
from .limits import Limits
from .model import WorkbookReadError, _error, _size

if TYPE_CHECKING:
    from .sheet import _SheetPart

_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_MARKERS: Final = ("EncryptionInfo".encode("utf-16-le"), b"EncryptionInfo")
_EOCD: Final = b"PK\x05\x06"
_EOCD64_LOCATOR: Final = b"PK\x06\x07"
_EOCD64: Final = b"PK\x06\x06"
_CD_BYTES_PER_PART: Final = 1024  # central-directory bytes allowed per permitted part

_CHUNK: Final = 256 * 1024  # inflate and parse this much at a time


def _load(source: Path | bytes, limits: Limits) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        try:
            with open(source, "rb") as handle:
                data = handle.read(limits.max_file_bytes + 1)
        except OSError as exc:
            raise _error("read-io-error", f"{type(exc).__name__}: {exc.strerror or exc}") from exc
    if not data:
        raise _error("read-empty-file")
    if len(data) > limits.max_file_bytes:
        raise _error(
            "read-too-large",
            f"文件大于 {_size(limits.max_file_bytes)}",
        )
    return data


def _open_zip(data: bytes, limits: Limits) -> zipfile.ZipFile:
    if data.startswith(_OLE_MAGIC):
        if any(marker in data for marker in _ENCRYPTION_MARKERS):
            raise _error("read-encrypted", "加密的工作簿保存为 OLE 复合文档")
        raise _error("read-legacy-xls")
    looks_like_zip = data.startswith((b"PK\x03\x04", _EOCD, b"PK\x07\x08"))
    eocd = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if eocd < 0 or len(data) - eocd < 22:
        if looks_like_zip:
            raise _error("read-truncated-zip")
        raise _error("read-not-a-zip", _looks_like(data))
    entries, cd_size = struct.unpack_from("<HI", data, eocd + 10)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # ZIP64: the real counts are elsewhere
        locator = eocd - 20
        if locator >= 0 and data[locator : locator + 4] == _EOCD64_LOCATOR:
            (offset,) = struct.unpack_from("<Q", data, locator + 8)
            if offset + 56 <= len(data) and data[offset : offset + 4] == _EOCD64:
                entries, cd_size = struct.unpack_from("<QQ", data, offset + 32)
    if entries > limits.max_parts or cd_size > limits.max_parts * _CD_BYTES_PER_PART:
        raise _error(
            "read-too-large",
            f"zip 包声明了 {entries:,} 个部件（上限 {limits.max_parts:,}）"
            if entries > limits.max_parts
            else f"zip 目录有 {_size(cd_size)}",
        )
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,  # "zip file version 19.7" from a damaged directory
        struct.error,
        ValueError,
        EOFError,
        OSError,
        OverflowError,
        IndexError,
        KeyError,
    ) as exc:
        if not looks_like_zip:
            raise _error("read-not-a-zip", _looks_like(data)) from exc
        raise _error("read-corrupt-zip", f"zip 目录无法读取：{exc}") from exc
    if len(archive.infolist()) > limits.max_parts:
        archive.close()
        raise _error(
            "read-too-large",
            f"zip 包有 {len(archive.infolist()):,} 个部件（上限 {limits.max_parts:,}）",
        )
    return archive


_SIGNATURES: Final = (
    (b"%PDF", "PDF 文件"),
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片（照片）"),
    (b"GIF8", "GIF 图片"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"\x1f\x8b", "gzip 压缩文件"),
    (b"{\\rtf", "RTF 文档"),
)


def _looks_like(data: bytes) -> str:
    """What a file that is not a zip seems to be, for the message ("" when nothing is clear)."""
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return f"看起来是{' ' if name[0].isascii() else ''}{name}"
    head = data[:2048].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype html", b"<table", b"<meta")) or b"<html" in head:
        return "看起来是网页（HTML）文件，常见于系统导出的“假 .xls”"
    if head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in data[:4096]:
        return "看起来是 Excel 2003 XML 表格"
    if not data.strip(b"\x00"):
        return "内容全是零字节"
    try:
        text = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data[:4096].decode("gb18030")
        except UnicodeDecodeError:
            return ""
    if text and all(ch.isprintable() or ch in "\r\n\t\ufeff" for ch in text[:-4]):
        return "看起来是文本文件（如 CSV）"
    return ""


_OTHER_MAIN_PARTS: Final = frozenset(
    {"xl/workbook.bin", "word/document.xml", "ppt/presentation.xml"}
)
_ATTACHMENT: Final = "可能发错了附件：请提交在下发的 .xlsx 模板中填写的工作簿"


def _other_format(lowered: list[str]) -> str:
    """What a zip without a workbook part is, by its entries, and what to do ("" when it looks
    like a damaged .xlsx)."""
    names = set(lowered)
    if "xl/workbook.bin" in names:
        return "二进制工作簿（.xlsb）。请在 Excel 中把它“另存为”Excel 工作簿（*.xlsx）后再提交"
    if "mimetype" in names or "content.xml" in names:
        return (
            "OpenDocument 文件（.ods 或 .odt）。如果是表格，请在 WPS 或 LibreOffice 中把它"
            "“另存为”Excel 工作簿（*.xlsx）；否则" + _ATTACHMENT
        )
    if "word/document.xml" in names:
        return "Word 文档（.docx），" + _ATTACHMENT
    if "ppt/presentation.xml" in names:
        return "PowerPoint 演示文稿（.pptx），" + _ATTACHMENT
    if "[content_types].xml" not in names:
        inner = [n for n in lowered if n.endswith((".xlsx", ".xls", ".xlsm", ".et"))]
        if inner:
            return f"一个 zip 压缩包（内含 {len(inner)} 个表格文件）。请解压后逐个提交"
        return "一个 zip 压缩包，" + _ATTACHMENT
    return ""


class _Package:
    """An open package: its parts by (case-folded) name, and the bounded inflating of them."""

    def __init__(self, archive: zipfile.ZipFile, limits: Limits) -> None:
        self.zip = archive
        self.limits = limits
        self.total = 0
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            key = info.filename.lower()
            if key in self.infos:
                raise _error("read-corrupt-zip", f"部件 {info.filename} 出现了两次")
            self.infos[key] = info

    # -- parts -----------------------------------------------------------------------------

    def info(self, name: str) -> zipfile.ZipInfo | None:
        """The entry of part ``name`` (OPC part names are case-insensitive; targets in .rels
        may be percent-encoded)."""
        key = name.lstrip("/").lower()
        found = self.infos.get(key)
        if found is None and "%" in key:
            found = self.infos.get(unquote(key))
        return found

    def require(self, name: str, detail: str = "") -> zipfile.ZipInfo:
        info = self.info(name)
        if info is None:
            raise _error("read-missing-part", detail, part=name)
        return info

    def check_declared(self, infos: list[zipfile.ZipInfo]) -> None:
        """Refuse, before inflating anything, parts whose declared sizes pass a limit."""
        limits = self.limits
        total = self.total
        for info in infos:
            name = info.filename
            if info.flag_bits & 0x1:
                raise _error("read-encrypted", f"部件 {name} 用 zip 密码加密")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _error(
                    "read-corrupt-zip",
                    f"部件 {name} 使用了不支持的压缩方式（{info.compress_type}）",
                )
            self._check_size(name, info.file_size, info.compress_size, "声明")
            total += info.file_size
            if total > limits.max_total_inflated_bytes:
                raise _error(
                    "read-zip-bomb",
                    f"需读取的部件声明共 {_size(total)}，"
                    f"超过上限 {_size(limits.max_total_inflated_bytes)}",
                )

    def _check_size(self, name: str, size: int, compressed: int, how: str) -> None:
        limits = self.limits
        if size > limits.max_part_inflated_bytes:
            raise _error(
                "read-zip-bomb",
                f"{how}解压后 {_size(size)}，超过单个部件上限 "
                f"{_size(limits.max_part_inflated_bytes)}",
                part=name,
            )
        if size > limits.ratio_min_bytes and size > limits.max_ratio * max(compressed, 1):
            raise _error(
                "read-zip-bomb",
                f"{how}压缩比 {size / max(compressed, 1):,.0f}:1，超过上限 {limits.max_ratio:g}:1",
                part=name,
            )

    def parse(
        self,
        info: zipfile.ZipInfo,
        start: Callable[[str, dict[str, str]], None],
        end: Callable[[str], None],
        data: Callable[[str], None] | None = None,
        handler: _SheetPart | None = None,
    ) -> None:
        """Inflate ``info`` chunk by chunk, counting real bytes, and stream it through expat.
        A sheet ``handler`` is given the parser, to switch its handlers off where it skips."""
        self.check_declared([info])
        parser = _expat(start, end, data)
        if handler is not None:
            handler.parser = parser
        with self._errors_named(info.filename):
            for chunk in self._chunks(info):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)

    def _chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The inflated bytes of ``info``, a chunk at a time, each checked against the size,
        ratio and total limits before it is handed on."""
        name = info.filename
        produced = 0
        limits = self.limits
        with self.zip.open(info) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    return
                produced += len(chunk)
                self.total += len(chunk)
                self._check_size(name, produced, info.compress_size, "实际")
                if self.total > limits.max_total_inflated_bytes:
                    raise _error(
                        "read-zip-bomb",
                        f"已解压 {_size(self.total)}，超过上限 "
                        f"{_size(limits.max_total_inflated_bytes)}",
                    )
                yield chunk

    @staticmethod
    @contextmanager
    def _errors_named(name: str) -> Iterator[None]:
        """Whatever inflating or parsing part ``name`` raises, as a WorkbookReadError."""
        try:
            yield
        except WorkbookReadError:
            raise
        except DefusedXmlException as exc:
            raise _error("read-xml-unsafe", type(exc).__name__, part=name) from exc
        except ExpatError as exc:
            raise _error("read-xml-malformed", f"XML 错误：{exc}", part=name) from exc
        except _Malformed as exc:
            raise _error("read-xml-malformed", str(exc), part=name) from exc
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
            raise _error("read-corrupt-zip", str(exc), part=name) from exc
        except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required"
            raise _error("read-encrypted", str(exc), part=name) from exc
        # LookupError: expat looks up the encoding a part declares (encoding="true"), and an
        # unknown one ended in an internal error. It also covers IndexError and KeyError.
        except (ValueError, LookupError, TypeError, OverflowError) as exc:
            raise _error("read-xml-malformed", f"{type(exc).__name__}: {exc}", part=name) from exc

    @staticmethod
    def target(source: str, target: str) -> str:
        """The part name a relationship of ``source`` points at."""
        if target.startswith("/"):
            return posixpath.normpath(target).lstrip("/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")

    # -- the package -----------------------------------------------------------------------

    def check_package(self) -> None:
        """Every part's declared size, ratio, compression and encryption, and their declared
        total: the checked copy copies every part, so a bomb in a part the checker itself
        never reads (a 5 GB "thumbnail") must be refused here too."""
        total = 0
        for info in self.zip.infolist():
            self.check_declared([info])
            total += info.file_size
            if total > self.limits.max_total_inflated_bytes:
                raise _error(
                    "read-zip-bomb",
                    f"各部件声明解压后共 {_size(total)}，"
                    f"超过上限 {_size(self.limits.max_total_inflated_bytes)}",
                )
