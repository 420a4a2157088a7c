"""The bureaus' tokens and the officer's secret.

At the first start each roster bureau gets a token (``secrets.token_urlsafe(24)``, 192 bits);
the database keeps only its SHA-256 and the plain tokens go once into ``DATA/tokens.csv``
(mode 0600) for the officer to send out, one to each bureau, as the distributed workbooks are
sent. A bureau added to the roster later gets its token at the next start, appended to the
same file; a bureau's token never changes by itself. The officer's secret is made the same
way, stored hashed, printed at the first start and kept in ``DATA/officer.txt`` (0600).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from .store import BureauRecord, Store

TOKEN_COLUMNS = ("bureau_id", "bureau_name", "template", "token")


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def digest(secret: str) -> str:
    """The stored form of a token or secret. They are random and long, so a plain SHA-256 is
    enough (no dictionary to guess from); compared with :func:`same`."""
    return hashlib.sha256(secret.strip().encode("utf-8", "replace")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def issue_tokens(store: Store, bureaus: Sequence[BureauRecord], tokens_file: Path) -> int:
    """A token for every bureau that has none yet (names and templates updated; a bureau no
    longer on the roster set aside); the number issued. The new tokens are added to
    ``tokens_file``."""
    issued: list[dict[str, str]] = []
    for bureau in bureaus:
        if store.has_bureau(bureau.bureau_id):
            store.update_bureau(bureau)
            continue
        token = new_secret()
        store.add_bureau(bureau, digest(token))
        issued.append(
            {
                "bureau_id": bureau.bureau_id,
                "bureau_name": bureau.name,
                "template": bureau.template,
                "token": token,
            }
        )
    for gone in store.keep_only({b.bureau_id for b in bureaus}):
        store.log("system", "bureau-off-roster", f"{gone} 不在名册中：其口令停用，记录保留")
    if issued:
        rows = _read(tokens_file) + issued
        _write(tokens_file, rows)
    return len(issued)


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return [dict(row) for row in csv.DictReader(stream)]


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=TOKEN_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    private_write(path, "\ufeff" + text.getvalue())


def private_write(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only from the first byte, replacing ``path``
    atomically (a temporary file beside it, renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def ensure_officer(store: Store, officer_file: Path) -> str | None:
    """The officer's secret when it was made just now (to print), else None."""
    if store.officer_hash() is not None:
        return None
    secret = new_secret()
    store.set_officer_hash(digest(secret))
    private_write(officer_file, secret + "\n")
    store.log("system", "officer-secret-issued", f"密钥写入 {officer_file.name}")
    return secret
