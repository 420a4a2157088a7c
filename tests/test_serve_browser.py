"""In a real browser (Debian's Chromium, headless, driven by Playwright): a bureau signs in
with its token, uploads a return saved by LibreOffice (as clerks' applications save it) with
the page's own form and script, reads the verdict in Chinese, downloads its checked copy; a
careless return gets its errors listed; the officer signs in, sees the roster's status, starts
the merge, watches its progress and gets the summary workbook.

Skipped locally when Chromium (or Playwright) is missing; under CI (``CI`` set) that is a
failure, as for LibreOffice (tests/conftest.py). ``XLTOOLS_CHROMIUM`` names another Chromium
binary (default: ``chromium`` on the PATH, else /usr/bin/chromium)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_support import (
    CHROMIUM_ARGS,
    chromium,
    config,
    distribution,
    fill,
    officer_secret,
    running,
    tokens,
)

from xltools.libreoffice import recalculate


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )  # Playwright gives each launch a fresh, empty profile (--user-data-dir)
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.libreoffice
def test_a_bureau_and_the_officer_in_chromium(browser: Any, tmp_path: Path) -> None:
    made = distribution(tmp_path)
    staged = tmp_path / "staged"
    staged.mkdir()
    filled = fill(made.copies["S001"], staged / "梧桐县.xlsx")
    (saved,) = recalculate([filled], tmp_path / "lo")  # as LibreOffice saves it
    careless = fill(made.copies["S002"], staged / "石桥县.xlsx", careless=True)
    data = tmp_path / "data"
    with running(config(data, made.manifest)) as base:
        issued = tokens(data)
        context = browser.new_context(accept_downloads=True, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(base + "/")
        assert "上传口令" in page.inner_text("body")
        page.fill("input[name=token]", issued["S001"])
        page.click("button[type=submit]")
        page.wait_for_url(base + "/bureau")
        page.set_input_files("#file", str(saved))
        page.click("#send")
        page.wait_for_url("**/bureau/submissions/*")
        assert page.inner_text("#verdict") == "通过"
        assert "检查通过" in page.inner_text("#summary")
        with page.expect_download() as waiting:
            page.click("#checked-copy")
        download = waiting.value
        assert download.suggested_filename.endswith(".checked.xlsx")
        target = tmp_path / "checked.xlsx"
        download.save_as(target)
        with zipfile.ZipFile(target) as package:
            assert "校验结果" in package.read("xl/workbook.xml").decode("utf-8")
        context.close()

        other = browser.new_context()
        page = other.new_page()
        page.set_default_timeout(30_000)
        page.goto(base + "/")
        page.fill("input[name=token]", issued["S002"])
        page.click("button[type=submit]")
        page.wait_for_url(base + "/bureau")
        page.set_input_files("#file", str(careless))
        page.click("#send")
        page.wait_for_url("**/bureau/submissions/*")
        assert "不通过" in page.inner_text("#verdict")
        assert "value-required" in page.inner_text("body")
        other.close()

        officer = browser.new_context(accept_downloads=True)
        page = officer.new_page()
        page.set_default_timeout(60_000)
        page.goto(base + "/officer")
        assert "主管人员登录" in page.inner_text("body")
        page.fill("input[name=secret]", officer_secret(data))
        page.click("button[type=submit]")
        page.wait_for_url(base + "/officer")
        status = page.inner_text("#status-line")
        assert status.startswith("名册 4 个单位：已采纳 1，已交待修改 1，未交 2"), status
        roster = page.inner_text("#roster")
        assert "梧桐县医保局" in roster and "已采纳" in roster and "未交" in roster
        page.click("#merge button")
        page.wait_for_selector("text=下载汇总工作簿")
        assert "采纳 1" in page.inner_text("body")
        with page.expect_download() as waiting:
            page.click("text=下载汇总工作簿")
        assert waiting.value.suggested_filename.endswith(".xlsx")
        officer.close()
