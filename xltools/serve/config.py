"""The settings of one ``xltools serve`` instance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024


@dataclass(frozen=True)
class ServeConfig:
    data_dir: Path  # SQLite database, blobs/, checked/, merges/, tokens.csv
    roster: Path  # manifest.csv of the distribution, or a roster with bureau_id
    specs_dir: Path | None = None
    max_upload_bytes: int = 20 * MB  # one upload, enforced while the body streams in
    max_uploads_per_bureau: int = 30  # per token, over the whole collection
    check_workers: int = 2  # checks run at once (threads off the event loop)
    session_hours: float = 12.0
    secure_cookies: bool = False  # set behind a TLS proxy: cookies only over HTTPS

    @property
    def database(self) -> Path:
        return self.data_dir / "xltools-serve.sqlite"

    @property
    def blobs(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def tokens_file(self) -> Path:
        return self.data_dir / "tokens.csv"

    @property
    def officer_file(self) -> Path:
        return self.data_dir / "officer.txt"

    @property
    def merges(self) -> Path:
        return self.data_dir / "merges"

    @property
    def incoming(self) -> Path:
        return self.data_dir / "incoming"
