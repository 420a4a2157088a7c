"""The records (SQLite) and the uploads (a content-addressed blob store).

Every upload is kept as ``blobs/<sha256>``: written to a temporary file, then *linked* into
place, so an existing blob is never overwritten (the same bytes sent twice are one blob, two
submissions). Checked copies are blobs too. The database holds the bureaus (with their token's
hash, never the token), the submissions, the sessions, the merges and the decision log; one
connection, serialised by a lock (SQLite in WAL mode, writes are short).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

SHA256 = re.compile(r"[0-9a-f]{64}")

SCHEMA = """
CREATE TABLE IF NOT EXISTS bureaus (
    bureau_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    template TEXT NOT NULL DEFAULT '',
    token_hash TEXT NOT NULL UNIQUE,
    active INTEGER NOT NULL DEFAULT 1  -- 0: no longer on the roster (its records stay)
);
CREATE TABLE IF NOT EXISTS officer (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    role TEXT NOT NULL,              -- 'bureau' or 'officer'
    bureau_id TEXT,
    expires TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bureau_id TEXT NOT NULL REFERENCES bureaus(bureau_id),
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    filename TEXT NOT NULL,          -- as sent, for display only: never a path
    received TEXT NOT NULL,
    verdict TEXT NOT NULL,           -- passed / errors / blank / rejected
    errors INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL DEFAULT '',
    template TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    report TEXT NOT NULL,            -- the check's JSON (Report.to_dict())
    copy_sha256 TEXT                 -- the checked copy's blob, when one was written
);
CREATE INDEX IF NOT EXISTS submissions_bureau ON submissions(bureau_id, id);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,             -- 'bureau:B001', 'officer', 'anonymous', 'system'
    action TEXT NOT NULL,            -- stable English code: upload-checked, login-refused …
    submission_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS merges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT,
    state TEXT NOT NULL,             -- running / done / failed
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    line TEXT NOT NULL DEFAULT '',
    submissions TEXT NOT NULL DEFAULT '[]',
    summary_sha256 TEXT
);
"""


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class BureauRecord:
    bureau_id: str
    name: str
    template: str


@dataclass(frozen=True)
class Submission:
    id: int
    bureau_id: str
    sha256: str
    bytes: int
    filename: str
    received: str
    verdict: str
    errors: int
    warnings: int
    reason: str
    code: str
    template: str
    unit: str
    report: dict[str, Any]
    copy_sha256: str | None


class Store:
    """The database and the blob folder of one data directory."""

    def __init__(self, database: Path, blobs: Path) -> None:
        database.parent.mkdir(parents=True, exist_ok=True)
        blobs.mkdir(parents=True, exist_ok=True)
        self.blobs = blobs
        self._lock = threading.Lock()
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, args))

    # -- blobs -------------------------------------------------------------------------

    def put_stream(self, source: BinaryIO, scratch: Path) -> tuple[str, int]:
        """Copy ``source`` into the blob store; its SHA-256 and size."""
        scratch.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=scratch)
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := source.read(1024 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            self._link(Path(temporary), sha)
            return sha, size
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def put_file(self, path: Path) -> str:
        """Move a file written in the data folder (a checked copy, a summary) into the store;
        its SHA-256."""
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(1024 * 1024):
                digest.update(chunk)
        sha = digest.hexdigest()
        self._link(path, sha)
        return sha

    def _link(self, path: Path, sha: str) -> None:
        """``path`` becomes ``blobs/<sha>`` unless that blob exists (it has these very bytes:
        it is never replaced), then goes; the blob is made read-only."""
        target = self.blobs / sha
        with contextlib.suppress(FileExistsError):
            os.link(path, target)  # fails rather than replace
        os.unlink(path)  # before the blob is read-only: a read-only name cannot go on Windows
        os.chmod(target, 0o444)

    def blob(self, sha: str) -> Path | None:
        """The blob's path, only for a well-formed digest that is in the store."""
        if not SHA256.fullmatch(sha):
            return None
        path = self.blobs / sha
        return path if path.is_file() else None

    # -- bureaus, officer, sessions --------------------------------------------------

    def bureaus(self) -> list[BureauRecord]:
        rows = self._all(
            "SELECT bureau_id, name, template FROM bureaus WHERE active = 1 ORDER BY bureau_id"
        )
        return [BureauRecord(r["bureau_id"], r["name"], r["template"]) for r in rows]

    def bureau(self, bureau_id: str) -> BureauRecord | None:
        rows = self._all(
            "SELECT bureau_id, name, template FROM bureaus WHERE bureau_id = ? AND active = 1",
            bureau_id,
        )
        return (
            BureauRecord(rows[0]["bureau_id"], rows[0]["name"], rows[0]["template"])
            if rows
            else None
        )

    def has_bureau(self, bureau_id: str) -> bool:
        return bool(self._all("SELECT 1 FROM bureaus WHERE bureau_id = ?", bureau_id))

    def add_bureau(self, bureau: BureauRecord, token_hash: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO bureaus(bureau_id, name, template, token_hash) VALUES (?, ?, ?, ?)",
                (bureau.bureau_id, bureau.name, bureau.template, token_hash),
            )

    def update_bureau(self, bureau: BureauRecord) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE bureaus SET name = ?, template = ?, active = 1 WHERE bureau_id = ?",
                (bureau.name, bureau.template, bureau.bureau_id),
            )

    def keep_only(self, bureau_ids: set[str]) -> list[str]:
        """Bureaus no longer on the roster are set aside (their tokens stop working, their
        records stay); the ids set aside just now."""
        gone = [b.bureau_id for b in self.bureaus() if b.bureau_id not in bureau_ids]
        with self._tx() as db:
            db.executemany(
                "UPDATE bureaus SET active = 0 WHERE bureau_id = ?", [(g,) for g in gone]
            )
        return gone

    def bureau_by_token_hash(self, token_hash: str) -> str | None:
        rows = self._all(
            "SELECT bureau_id FROM bureaus WHERE token_hash = ? AND active = 1", token_hash
        )
        return str(rows[0]["bureau_id"]) if rows else None

    def officer_hash(self) -> str | None:
        rows = self._all("SELECT secret_hash FROM officer WHERE id = 1")
        return str(rows[0]["secret_hash"]) if rows else None

    def set_officer_hash(self, secret_hash: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO officer(id, secret_hash) VALUES (1, ?)", (secret_hash,)
            )

    def add_session(self, id_hash: str, role: str, bureau_id: str | None, expires: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE expires < ?", (now(),))
            db.execute(
                "INSERT INTO sessions(id_hash, role, bureau_id, expires) VALUES (?, ?, ?, ?)",
                (id_hash, role, bureau_id, expires),
            )

    def session(self, id_hash: str) -> tuple[str, str | None] | None:
        rows = self._all(
            "SELECT role, bureau_id FROM sessions WHERE id_hash = ? AND expires >= ?",
            id_hash,
            now(),
        )
        return (str(rows[0]["role"]), rows[0]["bureau_id"]) if rows else None

    def drop_session(self, id_hash: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))

    # -- submissions -------------------------------------------------------------------

    def count_submissions(self, bureau_id: str) -> int:
        rows = self._all("SELECT COUNT(*) AS n FROM submissions WHERE bureau_id = ?", bureau_id)
        return int(rows[0]["n"])

    def add_submission(self, values: dict[str, Any], actor: str, detail: str) -> int:
        """Record a checked upload and its decision in one transaction; its id."""
        columns = [
            "bureau_id",
            "sha256",
            "bytes",
            "filename",
            "received",
            "verdict",
            "errors",
            "warnings",
            "reason",
            "code",
            "template",
            "unit",
            "report",
            "copy_sha256",
        ]
        row = dict(values, report=json.dumps(values["report"], ensure_ascii=False))
        with self._tx() as db:
            cursor = db.execute(
                f"INSERT INTO submissions({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                tuple(row[c] for c in columns),
            )
            number = int(cursor.lastrowid or 0)
            db.execute(
                "INSERT INTO decisions(at, actor, action, submission_id, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                (now(), actor, f"upload-{values['verdict']}", number, detail),
            )
        return number

    def submissions(self, bureau_id: str | None = None) -> list[Submission]:
        if bureau_id is None:
            rows = self._all("SELECT * FROM submissions ORDER BY id")
        else:
            rows = self._all("SELECT * FROM submissions WHERE bureau_id = ? ORDER BY id", bureau_id)
        return [_submission(r) for r in rows]

    def submission(self, number: int) -> Submission | None:
        rows = self._all("SELECT * FROM submissions WHERE id = ?", number)
        return _submission(rows[0]) if rows else None

    # -- the decision log --------------------------------------------------------------

    def log(
        self, actor: str, action: str, detail: str = "", submission_id: int | None = None
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO decisions(at, actor, action, submission_id, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                (now(), actor, action, submission_id, detail),
            )

    def decisions(self, limit: int = 500) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM decisions ORDER BY id DESC LIMIT ?", limit)

    # -- merges ------------------------------------------------------------------------

    def start_merge(self, submission_ids: list[int]) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO merges(started, state, total, submissions) VALUES (?, 'running', ?, ?)",
                (now(), len(submission_ids), json.dumps(submission_ids)),
            )
            number = int(cursor.lastrowid or 0)
            db.execute(
                "INSERT INTO decisions(at, actor, action, detail) VALUES (?, 'officer', "
                "'merge-started', ?)",
                (now(), f"汇总 #{number}：{len(submission_ids)} 份已采纳的文件"),
            )
        return number

    def merge_progress(self, number: int, done: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE merges SET done = ? WHERE id = ?", (done, number))

    def finish_merge(self, number: int, state: str, line: str, summary: str | None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE merges SET finished = ?, state = ?, line = ?, summary_sha256 = ?, "
                "done = CASE WHEN ? = 'done' THEN total ELSE done END WHERE id = ?",
                (now(), state, line, summary, state, number),
            )
            db.execute(
                "INSERT INTO decisions(at, actor, action, detail) VALUES (?, 'system', ?, ?)",
                (now(), f"merge-{state}", f"汇总 #{number}：{line}"),
            )

    def merge(self, number: int) -> sqlite3.Row | None:
        rows = self._all("SELECT * FROM merges WHERE id = ?", number)
        return rows[0] if rows else None

    def merges(self) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM merges ORDER BY id DESC LIMIT 20")


def _submission(row: sqlite3.Row) -> Submission:
    values = dict(row)
    values["report"] = json.loads(values["report"])
    return Submission(**values)
