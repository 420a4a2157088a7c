"""Under load: a real uvicorn server on a free localhost port, 50 uploads at once (ten
bureaus, five different returns each, one HTTP client and session per bureau); every upload
answered, stored by its digest, recorded once, logged once, and the roster's status adds up.
Traffic goes to 127.0.0.1 only, and the test is bounded in count and time."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from serve_support import config, distribution, fill, officer_secret, running, tokens

BUREAUS, EACH = 10, 5
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[Path]]]:
    tmp = tmp_path_factory.mktemp("serve-load")
    made = distribution(tmp, BUREAUS)
    files: dict[str, list[Path]] = {}
    for bureau, copy in made.copies.items():
        folder = tmp / "returns" / bureau
        folder.mkdir(parents=True)
        files[bureau] = [
            fill(copy, folder / f"{bureau}_{n}.xlsx", phone=f"1390000{int(bureau[1:]):02}{n:02}")
            for n in range(EACH)
        ]
    return made.manifest, files


def _session(base: str, token: str) -> tuple[httpx.Client, str]:
    browser = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
    value = CSRF.search(browser.get("/").text)
    assert value
    signed = browser.post("/login", data={"csrf": value.group(1), "token": token})
    assert signed.status_code == 200 and "上传自评表" in signed.text
    return browser, value.group(1)


def test_fifty_concurrent_uploads_nothing_lost(
    load: tuple[Path, dict[str, list[Path]]], tmp_path: Path
) -> None:
    manifest, files = load
    data = tmp_path / "data"
    cfg = config(data, manifest, check_workers=2)
    with running(cfg) as base:
        issued = tokens(data)
        sessions = {b: _session(base, issued[b]) for b in files}
        jobs = [(b, path) for b in files for path in files[b]]
        assert len(jobs) == BUREAUS * EACH == 50

        def send(job: tuple[str, Path]) -> tuple[str, Path, httpx.Response]:
            bureau, path = job
            browser, value = sessions[bureau]
            with path.open("rb") as stream:
                answer = browser.post(
                    "/bureau/upload",
                    files={"file": (path.name, stream)},
                    headers={"x-csrf-token": value, "accept": "application/json"},
                )
            return bureau, path, answer

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(send, jobs))
        seconds = time.monotonic() - started
        officer = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
        value = CSRF.search(officer.get("/officer").text)
        assert value
        page = officer.post(
            "/officer/login", data={"csrf": value.group(1), "secret": officer_secret(data)}
        ).text
        for browser, _ in sessions.values():
            browser.close()
        officer.close()
    assert seconds < 120, seconds
    ids = set()
    for bureau, path, answer in results:
        assert answer.status_code == 200, (path.name, answer.text)
        body = answer.json()
        assert body["verdict"] == "passed", (path.name, body["reason"])
        assert body["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert body["report"]["bureau_id"] == bureau
        assert (data / "blobs" / body["sha256"]).read_bytes() == path.read_bytes()
        ids.add(body["id"])
    assert len(ids) == 50
    with sqlite3.connect(data / "xltools-serve.sqlite") as db:
        rows = db.execute("SELECT id, bureau_id, sha256, filename FROM submissions").fetchall()
        logged = db.execute(
            "SELECT submission_id FROM decisions WHERE action LIKE 'upload-%'"
        ).fetchall()
    assert {r[0] for r in rows} == ids and len(rows) == 50
    assert sorted(r[0] for r in logged) == sorted(ids)
    assert {(r[1], r[3]) for r in rows} == {(b, p.name) for b, p in jobs}
    assert len({r[2] for r in rows}) == 50  # fifty different returns, fifty blobs
    assert f"名册 {BUREAUS} 个单位：已采纳 {BUREAUS}，已交待修改 0，未交 0" in page
    assert f"被替代的旧文件 {BUREAUS * (EACH - 1)} 个" in page


def test_the_real_server_cuts_an_oversize_upload_off_and_keeps_answering(
    load: tuple[Path, dict[str, list[Path]]], tmp_path: Path
) -> None:
    manifest, files = load
    data = tmp_path / "data"
    with running(config(data, manifest, max_upload_bytes=1_000_000)) as base:
        browser, value = _session(base, tokens(data)["S001"])

        def body() -> Iterator[bytes]:  # 30 MB without a Content-Length
            yield b'--bb\r\nContent-Disposition: form-data; name="file"; filename="x.xlsx"\r\n\r\n'
            for _ in range(300):
                yield bytes(100_000)
            yield b"\r\n--bb--\r\n"

        headers = {"x-csrf-token": value, "accept": "application/json"}
        answer = browser.post(
            "/bureau/upload",
            content=body(),
            headers={**headers, "content-type": "multipart/form-data; boundary=bb"},
        )
        assert answer.status_code == 413, answer.text
        assert answer.json()["code"] == "serve-upload-too-large"
        with files["S001"][0].open("rb") as stream:
            good = browser.post(
                "/bureau/upload", files={"file": ("a.xlsx", stream)}, headers=headers
            )
        assert good.status_code == 200 and good.json()["verdict"] == "passed"
        browser.close()
