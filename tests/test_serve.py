"""``xltools serve`` over HTTP (Starlette's TestClient): a bureau signs in with its token,
uploads, gets the check at once in Chinese and its checked copy; the officer sees the
roster's status, every submission and the decision log, and merges what was accepted. Then
every security rule: tokens, one bureau's submissions hidden from another, the officer's
credential, CSRF, size and count limits, path traversal, no traceback ever."""

from __future__ import annotations

import hashlib
import io
import os
import re
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from serve_support import (
    client,
    config,
    csrf,
    distribution,
    fill,
    officer_secret,
    sign_in,
    sign_in_officer,
    tokens,
    upload,
)

from xltools.cli import main

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def returns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("serve")
    made = distribution(tmp)
    staged = tmp / "returns"
    staged.mkdir()
    return {
        "manifest": made.manifest,
        "good": fill(made.copies["S001"], staged / "梧桐县.xlsx"),
        "careless": fill(made.copies["S002"], staged / "石桥县_初稿.xlsx", careless=True),
        "corrected": fill(made.copies["S002"], staged / "石桥县_修改.xlsx"),
        "other": fill(made.copies["S003"], staged / "临川区.xlsx"),
    }


def _app(tmp_path: Path, returns: dict[str, Path], **changes: Any) -> tuple[Any, Path]:
    data = tmp_path / "data"
    return client(config(data, returns["manifest"], **changes)), data


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text, text


def test_a_bureau_uploads_and_gets_the_check_at_once(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    browser, data = _app(tmp_path, returns)
    token = tokens(data)["S001"]
    value = sign_in(browser, token)
    answer = upload(browser, value, returns["good"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verdict"] == "passed" and body["report"]["bureau_id"] == "S001"
    page = browser.get(body["url"])
    assert "检查通过" in page.text and "下载检查后副本" in page.text
    copy = browser.get(f"{body['url']}/checked")
    assert copy.status_code == 200
    assert "filename*=UTF-8''" in copy.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(copy.content)) as package:
        assert "校验结果" in package.read("xl/workbook.xml").decode("utf-8")
    # the upload is kept by its digest, read-only, with the same bytes
    sent = returns["good"].read_bytes()
    blob = data / "blobs" / hashlib.sha256(sent).hexdigest()
    assert blob.read_bytes() == sent and body["sha256"] == blob.name
    assert not os.access(blob, os.W_OK) or os.geteuid() == 0
    assert oct(blob.stat().st_mode & 0o777) == oct(0o444)
    # a form post without the page's script: redirected to the result
    with returns["good"].open("rb") as stream:
        plain = browser.post(
            "/bureau/upload",
            files={"file": ("梧桐县.xlsx", stream)},
            data={"csrf": value},
            follow_redirects=False,
        )
    assert plain.status_code == 303 and plain.headers["location"] == "/bureau/submissions/2"
    # the same bytes twice: one blob, two submissions, nothing overwritten
    # (the two checked copies differ only when written in different seconds)
    assert len(list((data / "blobs").iterdir())) in (2, 3)
    with sqlite3.connect(data / "xltools-serve.sqlite") as db:
        assert [r[0] for r in db.execute("SELECT sha256 FROM submissions")] == [blob.name] * 2
    listing = browser.get("/bureau").text
    assert "梧桐县.xlsx" in listing and listing.count("/bureau/submissions/") == 2


def test_errors_are_explained_in_chinese_and_a_correction_supersedes(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    browser, data = _app(tmp_path, returns)
    value = sign_in(browser, tokens(data)["S002"])
    first = upload(browser, value, returns["careless"]).json()
    assert first["verdict"] == "errors"
    codes = {f["code"] for f in first["report"]["findings"]}
    assert "value-required" in codes
    page = browser.get(first["url"]).text
    assert "检查不通过" in page and "value-required" in page
    for finding in first["report"]["findings"]:
        assert CJK.search(finding["message"])
    assert "本单位当前状态：已交待修改" in re.sub(r"<[^>]+>", "", browser.get("/bureau").text)
    second = upload(browser, value, returns["corrected"]).json()
    assert second["verdict"] == "passed"
    assert "本单位当前状态：已采纳" in re.sub(r"<[^>]+>", "", browser.get("/bureau").text)
    officer = client(config(data, returns["manifest"]))
    sign_in_officer(officer, officer_secret(data))
    status = officer.get("/officer").text
    assert "名册 4 个单位：已采纳 1，已交待修改 0，未交 3" in status
    assert "被替代的旧文件 1 个" in status
    assert "第 1 号提交（石桥县_初稿.xlsx）被第 2 号提交替代" in status  # and logged so


def test_the_officer_sees_status_submissions_log_and_merges(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    browser, data = _app(tmp_path, returns)
    for bureau, name in (("S001", "good"), ("S002", "careless")):
        other = client(config(data, returns["manifest"]))
        assert upload(other, sign_in(other, tokens(data)[bureau]), returns[name]).status_code == 200
    value = sign_in_officer(browser, officer_secret(data))
    page = browser.get("/officer").text
    assert "名册 4 个单位：已采纳 1，已交待修改 1，未交 2" in page
    assert "梧桐县医保局" in page and "未交" in page and "已交待修改" in page
    assert "upload-passed" in page and "upload-errors" in page and "officer-login" in page
    detail = browser.get("/officer/submissions/2").text
    assert "value-required" in detail
    original = browser.get("/officer/submissions/1/original")
    assert original.content == returns["good"].read_bytes()
    started = browser.post(
        "/officer/merge", data={"csrf": value}, headers={"accept": "application/json"}
    )
    assert started.status_code == 200, started.text
    number = started.json()["id"]
    deadline = time.monotonic() + 60
    while True:
        state = browser.get(f"/officer/merges/{number}").json()
        assert {"done", "total", "message"} <= set(state)
        if state["state"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert state["state"] == "done", state
    assert state["total"] == 1 and "采纳 1" in state["message"]
    summary = browser.get(state["summary"])
    assert summary.status_code == 200 and summary.content[:2] == b"PK"
    assert "merge-done" in browser.get("/officer").text


def test_a_wrong_token_is_refused_and_logged(tmp_path: Path, returns: dict[str, Path]) -> None:
    browser, data = _app(tmp_path, returns)
    value = csrf(browser)
    for token in ("not-a-token", "", tokens(data)["S001"] + "x"):
        answer = browser.post("/login", data={"csrf": value, "token": token})
        assert answer.status_code == 403 and "serve-bad-token" in answer.text
        assert "上传口令不正确" in answer.text
    # not signed in: no upload, no bureau page
    with returns["good"].open("rb") as stream:
        refused = browser.post(
            "/bureau/upload",
            files={"file": ("x.xlsx", stream)},
            data={"csrf": value},
            headers={"accept": "application/json"},
        )
    assert refused.status_code == 401 and refused.json()["code"] == "serve-not-signed-in"
    assert browser.get("/bureau", follow_redirects=False).status_code == 303
    with sqlite3.connect(data / "xltools-serve.sqlite") as db:
        logged = db.execute("SELECT COUNT(*) FROM decisions WHERE action = 'login-refused'")
        assert logged.fetchone()[0] == 3
        assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
        # tokens are kept hashed, never as they are
        stored = {row[0] for row in db.execute("SELECT token_hash FROM bureaus")}
    assert not set(tokens(data).values()) & stored


def test_a_bureau_sees_only_its_own_submissions(tmp_path: Path, returns: dict[str, Path]) -> None:
    browser, data = _app(tmp_path, returns)
    first = client(config(data, returns["manifest"]))
    mine = upload(first, sign_in(first, tokens(data)["S001"]), returns["good"]).json()
    sign_in(browser, tokens(data)["S003"])
    for path in (mine["url"], f"{mine['url']}/checked", "/bureau/submissions/999"):
        answer = browser.get(path)
        assert answer.status_code == 404 and "serve-not-found" in answer.text, path
    assert "梧桐县.xlsx" not in browser.get("/bureau").text
    # nor the officer's pages
    for path in ("/officer/submissions/1", "/officer/submissions/1/original", "/officer/merges/1"):
        answer = browser.get(path, headers={"accept": "application/json"})
        assert answer.status_code == 401 and answer.json()["code"] == "serve-officer-only"


def test_a_return_stamped_for_another_bureau_is_refused(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    browser, data = _app(tmp_path, returns)
    value = sign_in(browser, tokens(data)["S001"])
    answer = upload(browser, value, returns["other"]).json()  # S003's workbook
    assert answer["verdict"] == "rejected" and answer["code"] == "serve-wrong-bureau"
    assert "S003" in answer["reason"] and "不是本单位" in answer["reason"]
    assert "未采纳" in browser.get(answer["url"]).text
    copy = browser.get(f"{answer['url']}/checked")
    with zipfile.ZipFile(io.BytesIO(copy.content)) as package:
        texts = b"".join(package.read(n) for n in package.namelist() if n.endswith(".xml"))
    assert "不是本单位".encode() in texts  # the checked copy says so too


def test_check_does_not_load_the_web_stack(tmp_path: Path) -> None:
    probe = (
        "import sys\nfrom xltools.cli import main\n"
        "sys.argv = ['xltools', 'check', sys.argv[1], '--no-copy']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('starlette', 'uvicorn', 'jinja2', 'multipart', 'anyio') "
        "if m in sys.modules))"
    )
    template = Path(__file__).resolve().parent.parent / "templates" / "department_overall_v1.xlsx"
    done = subprocess.run(
        [sys.executable, "-c", probe, str(template)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_officer_page_needs_its_credential(tmp_path: Path, returns: dict[str, Path]) -> None:
    browser, data = _app(tmp_path, returns)
    page = browser.get("/officer")
    assert "主管人员登录" in page.text and "名册" not in page.text
    value = csrf(browser)
    for secret in ("", "guess", tokens(data)["S001"]):  # a bureau's token is no officer's secret
        answer = browser.post("/officer/login", data={"csrf": value, "secret": secret})
        assert answer.status_code == 403 and "serve-bad-secret" in answer.text
    merge = browser.post("/officer/merge", data={"csrf": value})
    assert merge.status_code == 401 and "serve-officer-only" in merge.text
    sign_in(browser, tokens(data)["S001"])  # a bureau's session is no officer's either
    assert "主管人员登录" in browser.get("/officer").text
    sign_in_officer(browser, officer_secret(data))
    assert "收件情况" in browser.get("/officer").text


def test_csrf_missing_wrong_or_cross_site_is_refused(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    browser, data = _app(tmp_path, returns)
    token = tokens(data)["S001"]
    value = csrf(browser)
    for sent in ({}, {"csrf": "wrong"}):
        answer = browser.post("/login", data={"token": token, **sent})
        assert answer.status_code == 403 and "serve-csrf" in answer.text
    cross = browser.post(
        "/login", data={"csrf": value, "token": token}, headers={"origin": "http://evil.example"}
    )
    assert cross.status_code == 403 and "serve-cross-site" in cross.text
    sign_in(browser, token)
    for fields, headers in (({}, {}), ({"csrf": "wrong"}, {}), ({}, {"x-csrf-token": "wrong"})):
        with returns["good"].open("rb") as stream:
            answer = browser.post(
                "/bureau/upload",
                files={"file": ("梧桐县.xlsx", stream)},
                data=fields,
                headers={"accept": "application/json", **headers},
            )
        assert answer.status_code == 403 and answer.json()["code"] == "serve-csrf"
    # a page of another site cannot read the cookie: it is HttpOnly and SameSite=Strict
    fresh = client(config(data, returns["manifest"]))
    cookie = fresh.get("/").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    with sqlite3.connect(data / "xltools-serve.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_an_oversize_upload_is_refused_while_it_streams(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    browser, data = _app(tmp_path, returns, max_upload_bytes=100_000)
    value = sign_in(browser, tokens(data)["S001"])
    big = tmp_path / "big.xlsx"
    big.write_bytes(os.urandom(400_000))
    answer = upload(browser, value, big)
    assert answer.status_code == 413 and answer.json()["code"] == "serve-upload-too-large"
    assert CJK.search(answer.json()["message"])

    def chunks() -> Any:  # no Content-Length: counted as it arrives
        boundary = b"--b0undary"
        yield (
            boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="x.xlsx"\r\n\r\n'
        )
        for _ in range(40):
            yield os.urandom(10_000)
        yield b"\r\n" + boundary + b"--\r\n"

    streamed = browser.post(
        "/bureau/upload",
        content=chunks(),
        headers={
            "content-type": "multipart/form-data; boundary=b0undary",
            "x-csrf-token": value,
            "accept": "application/json",
        },
    )
    assert streamed.status_code == 413 and streamed.json()["code"] == "serve-upload-too-large"
    with sqlite3.connect(data / "xltools-serve.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
        logged = db.execute("SELECT COUNT(*) FROM decisions WHERE action = 'upload-too-large'")
        assert logged.fetchone()[0] == 2
    assert upload(browser, value, returns["good"]).status_code == 200  # a return still fits


def test_the_count_limit_per_token(tmp_path: Path, returns: dict[str, Path]) -> None:
    browser, data = _app(tmp_path, returns, max_uploads_per_bureau=2)
    value = sign_in(browser, tokens(data)["S001"])
    assert [upload(browser, value, returns["good"]).status_code for _ in range(2)] == [200, 200]
    third = upload(browser, value, returns["good"])
    assert third.status_code == 429 and third.json()["code"] == "serve-too-many-uploads"
    other = client(config(data, returns["manifest"], max_uploads_per_bureau=2))
    assert (
        upload(other, sign_in(other, tokens(data)["S002"]), returns["corrected"]).status_code == 200
    )


def test_path_traversal_names_nothing_on_disk(tmp_path: Path, returns: dict[str, Path]) -> None:
    browser, data = _app(tmp_path, returns)
    value = sign_in(browser, tokens(data)["S001"])
    before = sorted(p for p in tmp_path.rglob("*") if "data" not in p.parts)
    for name in (
        "../../../梧桐县.xlsx",
        "..\\..\\evil.xlsx",
        "/etc/passwd.xlsx",
        "..",
        "a\x00b.xlsx",
    ):
        answer = upload(browser, value, returns["good"], name=name)
        assert answer.status_code == 200, (name, answer.text)
        shown = answer.json()["report"]["file"]
        assert "/" not in shown and "\\" not in shown and "\x00" not in shown, shown
    assert sorted(p for p in tmp_path.rglob("*") if "data" not in p.parts) == before
    assert {p.name for p in (data / "blobs").iterdir()} >= {
        hashlib.sha256(returns["good"].read_bytes()).hexdigest()
    }
    for path in (
        "/bureau/submissions/..%2F..%2Fetc%2Fpasswd",
        "/bureau/submissions/1/..%2F..%2F..%2Fxltools-serve.sqlite",
        "/officer/merges/1/summary.xlsx/../../../officer.txt",
        "/static/..%2F..%2Fofficer.txt",
        "/blobs/" + hashlib.sha256(returns["good"].read_bytes()).hexdigest(),
    ):
        answer = browser.get(path)
        assert answer.status_code in (401, 404), (path, answer.status_code)
        assert officer_secret(data) not in answer.text
        _no_traceback(answer.text)


def test_bad_input_gets_chinese_and_a_code_never_a_traceback(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    browser, data = _app(tmp_path, returns)
    value = sign_in(browser, tokens(data)["S001"])
    answers = [
        browser.get("/no-such-page"),
        browser.put("/bureau/upload"),
        browser.post(
            "/bureau/upload",
            content=b"not multipart",
            headers={"content-type": "multipart/form-data; boundary=x", "x-csrf-token": value},
        ),
        browser.post(
            "/bureau/upload", data={"csrf": value}, headers={"content-type": "application/json"}
        ),
        upload(browser, value, Path(__file__), name="notes.txt"),
    ]
    for answer in answers:
        _no_traceback(answer.text)
        assert CJK.search(answer.text), answer.text
        assert re.search(r"serve-[a-z-]+|skipped-not-workbook", answer.text), answer.text
    assert answers[-1].json()["verdict"] == "rejected"
    assert answers[-1].json()["code"] == "skipped-not-workbook"


def test_security_headers(tmp_path: Path, returns: dict[str, Path]) -> None:
    browser, _ = _app(tmp_path, returns)
    headers = browser.get("/").headers
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_the_command_needs_a_roster_and_the_demo_prepares_one(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["serve", "--data", str(tmp_path / "d")])
    assert result.exit_code == 2 and "usage-serve-no-roster" in result.output
    assert "serve" in runner.invoke(main, ["--help"]).output
    from xltools.serve.command import prepare_demo

    manifest = prepare_demo(tmp_path / "demo", lambda _: None)
    browser = client(config(tmp_path / "demo", manifest))
    assert "上传口令" in browser.get("/").text
    assert set(tokens(tmp_path / "demo")) == {"B001", "B002", "B003", "B004"}
    assert oct((tmp_path / "demo" / "tokens.csv").stat().st_mode & 0o777) == oct(0o600)
    assert oct((tmp_path / "demo" / "officer.txt").stat().st_mode & 0o777) == oct(0o600)
    # a second start keeps the tokens and the officer's secret
    first = tokens(tmp_path / "demo")
    client(config(tmp_path / "demo", manifest))
    assert tokens(tmp_path / "demo") == first


def test_a_changed_roster_adds_tokens_and_retires_the_removed(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    browser, data = _app(tmp_path, returns)
    first = tokens(data)
    smaller = tmp_path / "名册.csv"  # S004 dropped, S009 added
    smaller.write_text(
        "bureau_id,bureau_name\nS001,梧桐县医保局\nS002,石桥县医保局\nS003,临川区医保局\n"
        "S009,新增单位\n",
        encoding="utf-8",
    )
    later = client(config(data, smaller))
    now = tokens(data)
    assert {k: now[k] for k in first} == first and set(now) == set(first) | {"S009"}
    value = csrf(later)
    refused = later.post("/login", data={"csrf": value, "token": first["S004"]})
    assert refused.status_code == 403 and "serve-bad-token" in refused.text
    sign_in(later, now["S009"])
    sign_in_officer(later, officer_secret(data))
    page = later.get("/officer").text
    assert "名册 4 个单位" in page and "新增单位" in page and "bureau-off-roster" in page


def test_a_self_made_copy_is_held_to_the_distribution_manifest(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    """The roster is the distribution's manifest: as `check --manifest`, a return that is not
    the copy issued to a bureau (here one filled from the plain template) is refused."""
    browser, data = _app(tmp_path, returns)
    plain = tmp_path / "自制.xlsx"
    template = Path(__file__).resolve().parent.parent / "templates" / "project_expense_2023_v1.xlsx"
    fill(template, plain, unit_name="梧桐县医保局", project_name="演示项目1")
    answer = upload(browser, sign_in(browser, tokens(data)["S001"]), plain).json()
    assert answer["verdict"] == "rejected" and answer["code"] == "manifest-not-issued"
    assert "下发" in answer["reason"]
    # with a plain roster (no fingerprints) the same file is taken, and said to carry no stamp
    roster = tmp_path / "名册.csv"
    roster.write_text("bureau_id,bureau_name\nS001,梧桐县医保局\n", encoding="utf-8")
    other = client(config(tmp_path / "plain", roster))
    taken = upload(other, sign_in(other, tokens(tmp_path / "plain")["S001"]), plain).json()
    assert taken["verdict"] == "passed"
    assert "serve-no-stamp" in {f["code"] for f in taken["report"]["findings"]}
