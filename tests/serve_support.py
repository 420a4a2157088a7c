"""What the ``xltools serve`` tests share: a distribution to invented bureaus, their returns
filled as a clerk fills them, an app on a fresh data folder, signing in, and a real uvicorn
server on a free localhost port. Bureau names and phone numbers are invented."""

from __future__ import annotations

import csv
import os
import re
import shutil
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from xltools.fill import FillError, LoadedTemplate
from xltools.roster import distribute, read_roster, validate_roster
from xltools.serve.app import create_app
from xltools.serve.config import ServeConfig
from xltools.spec import load_spec

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
SPEC = load_spec(ROOT / "specs" / "project_expense_2023.yaml")
EXAMPLE = yaml.safe_load((ROOT / "examples" / "project_expense_2023.yaml").read_text("utf-8"))
ROSTER_COLUMNS = ["bureau_id", "bureau_name", "project_name", "unit_name"]
NAMES = (
    "梧桐县医保局",
    "石桥县医保局",
    "临川区医保局",
    "枫林市医保局",
    "苇塘县医保局",
    "栖霞镇医保局",
    "雁回县医保局",
    "柳岸区医保局",
    "青石县医保局",
    "桂溪市医保局",
)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Distribution:
    manifest: Path
    copies: dict[str, Path]  # bureau id -> its distributed workbook


def distribution(folder: Path, count: int = 4) -> Distribution:
    roster = folder / "名册.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(ROSTER_COLUMNS)
        for n, name in enumerate(NAMES[:count], 1):
            writer.writerow([f"S{n:03}", name, f"演示项目{n}", name])
    good, bad = validate_roster(SPEC, read_roster(roster))
    assert not bad
    manifest = distribute(SPEC, good, folder / "分发")
    with manifest.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    return Distribution(manifest, {r["bureau_id"]: folder / "分发" / r["file"] for r in rows})


def fill(copy: Path, target: Path, careless: bool = False, **changes: Any) -> Path:
    """A return as a clerk fills the distributed copy (``careless``: the phone left out)."""
    loaded = LoadedTemplate.load(copy, SPEC)
    assert not isinstance(loaded, FillError)
    data = {k: v for k, v in EXAMPLE.items() if k not in ROSTER_COLUMNS} | changes
    if careless:
        data.pop("phone")
    assert loaded.fill(data, target) == []
    return target


def config(data: Path, manifest: Path, **changes: Any) -> ServeConfig:
    return ServeConfig(data_dir=data, roster=manifest, specs_dir=ROOT / "specs", **changes)


def tokens(data: Path) -> dict[str, str]:
    with (data / "tokens.csv").open(encoding="utf-8-sig", newline="") as stream:
        return {row["bureau_id"]: row["token"] for row in csv.DictReader(stream)}


def officer_secret(data: Path) -> str:
    return (data / "officer.txt").read_text(encoding="utf-8").strip()


def client(cfg: ServeConfig) -> TestClient:
    return TestClient(create_app(cfg), raise_server_exceptions=False)


def csrf(browser: TestClient) -> str:
    """The CSRF value of this client's pages (the first page sets the cookie)."""
    page = browser.get("/")
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def sign_in(browser: TestClient, token: str) -> str:
    value = csrf(browser)
    answer = browser.post("/login", data={"csrf": value, "token": token}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return value


def sign_in_officer(browser: TestClient, secret: str) -> str:
    value = csrf(browser)
    answer = browser.post(
        "/officer/login", data={"csrf": value, "secret": secret}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return value


def upload(browser: TestClient, value: str, path: Path, name: str | None = None) -> Any:
    with path.open("rb") as stream:
        return browser.post(
            "/bureau/upload",
            files={"file": (name or path.name, stream, "application/octet-stream")},
            data={"csrf": value},
            headers={"accept": "application/json"},
        )


def free_port() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def running(cfg: ServeConfig) -> Iterator[str]:
    """A real uvicorn server on a free localhost port, in a thread; its base URL."""
    import uvicorn

    app = create_app(cfg)
    sock = free_port()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def chromium() -> str:
    """Debian's Chromium, or skip (locally) / fail (under CI, where .ci/run installs it)."""
    path = os.environ.get("XLTOOLS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "playwright (pip install -e '.[test]')"
    else:
        if os.path.exists(path):
            return path
        missing = "chromium (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{missing} is missing but CI is set: .ci/run must install it", pytrace=False)
    pytest.skip(f"{missing} not found")


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
