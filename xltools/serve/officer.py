"""What the officer's page shows and does: the roster's status, and the merge of what was
accepted.

The status is ``xltools status``'s (:func:`xltools.status.line_up`) over the submissions: for
each bureau the latest upload that ``merge`` could accept (passed, or with errors to
correct) is its current one, earlier ones are superseded by it — the bureau's own
resubmission is the decision, logged with it — and rejected or blank uploads never supersede
anything, as in ``merge``. So a bureau is 已采纳 when its current upload has no error, 已交待修改
when it has errors or only rejected uploads, 未交 when nothing came.

The merge takes the current upload of every 已采纳 bureau, links each blob under a readable
name into the merge's folder and runs :func:`xltools.merge.merge` in a thread, its progress in
the database for the page to poll; the summary workbook is added to the blob store.
"""

from __future__ import annotations

import re
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..status import ACCEPTED, Bureau, StatusReport, line_up
from .store import BureauRecord, Store, Submission

CANDIDATE = ("passed", "errors")
MERGE_STATES = {"running": "汇总中", "done": "已完成", "failed": "失败"}
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def label(submission: Submission) -> str:
    return f"#{submission.id} {submission.filename}"


def current(submissions: Sequence[Submission]) -> dict[str, Submission]:
    """Each bureau's current upload: its latest that merge could accept."""
    found: dict[str, Submission] = {}
    for item in submissions:
        if item.verdict in CANDIDATE:
            found[item.bureau_id] = item
    return found


def roster_status(
    bureaus: Sequence[BureauRecord], submissions: Sequence[Submission]
) -> StatusReport:
    chosen = current(submissions)
    rows: list[dict[str, Any]] = []
    first_errors: dict[str, str] = {}
    for item in submissions:
        kept = chosen.get(item.bureau_id)
        if item.verdict in CANDIDATE:
            status = "accepted" if kept is item else "superseded"
            reason = (
                ""
                if kept is item
                else f"被第 {kept.id if kept else '?'} 号提交替代（单位重新上传）"
            )
        else:
            status, reason = "rejected", item.reason
        rows.append(
            {
                "file": label(item),
                "status": status,
                "reason": reason,
                "template": item.template,
                "bureau_id": item.bureau_id,
                "unit": item.unit,
                "errors": item.errors,
            }
        )
        errors = [f for f in item.report.get("findings", []) if f.get("severity") == "error"]
        if errors:
            first_errors[label(item)] = str(errors[0].get("message", ""))
    roster = [Bureau(b.bureau_id, b.name) for b in bureaus]
    return line_up(roster, rows, first_errors)


def accepted_submissions(store: Store) -> list[Submission]:
    """The current upload of every 已采纳 bureau, in bureau order."""
    submissions = store.submissions()
    report = roster_status(store.bureaus(), submissions)
    chosen = current(submissions)
    return [chosen[b.bureau_id] for b in report.bureaus if b.status == ACCEPTED]


class MergeJobs:
    """One merge at a time, in a thread of its own."""

    def __init__(self, store: Store, folder: Path, specs_dir: Path | None) -> None:
        self.store, self.folder, self.specs_dir = store, folder, specs_dir
        self._lock = threading.Lock()
        self._running: int | None = None
        self._threads: list[threading.Thread] = []

    @property
    def running(self) -> int | None:
        return self._running

    def start(self) -> int | None:
        """The new merge's number, or None when one is running already."""
        with self._lock:
            if self._running is not None:
                return None
            chosen = accepted_submissions(self.store)
            number = self.store.start_merge([s.id for s in chosen])
            self._running = number
        thread = threading.Thread(
            target=self._run, args=(number, chosen), name=f"xltools-merge-{number}", daemon=True
        )
        self._threads.append(thread)
        thread.start()
        return number

    def wait(self, timeout: float | None = None) -> None:
        for thread in list(self._threads):
            thread.join(timeout)

    def _run(self, number: int, chosen: Sequence[Submission]) -> None:
        try:
            line, summary = run_merge(
                self.store, self.folder / str(number), chosen, self.specs_dir,
                lambda done: self.store.merge_progress(number, done),
            )  # fmt: skip
            self.store.finish_merge(number, "done", line, summary)
        except Exception as error:  # reported on the page and in the log, never raised
            traceback.print_exc()
            self.store.finish_merge(
                number,
                "failed",
                f"[serve-merge-failed] 汇总失败：{type(error).__name__}: {error}",
                None,
            )
        finally:
            with self._lock:
                self._running = None


def run_merge(
    store: Store,
    folder: Path,
    chosen: Sequence[Submission],
    specs_dir: Path | None,
    tick: Callable[[int], None],
) -> tuple[str, str | None]:
    """Merge the chosen uploads into ``folder/汇总.xlsx``; the closing line and its blob."""
    from ..merge import Outputs, merge

    inputs = folder / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    paths = []
    for item in chosen:
        blob = store.blob(item.sha256)
        if blob is None:
            raise FileNotFoundError(f"提交 {item.id} 的文件不在存储中")
        target = inputs / f"{_UNSAFE.sub('_', item.bureau_id)}_{item.id}.xlsx"
        if not target.exists():
            target.hardlink_to(blob)
        paths.append(target)
    if not paths:
        return "没有已采纳的文件可汇总", None
    summary = folder / "汇总.xlsx"
    done = 0

    def progress(_total: int) -> Callable[[], None]:
        def step() -> None:
            nonlocal done
            done += 1
            tick(done)

        return step

    with merge(
        paths, specs_dir=specs_dir, outputs=Outputs(xlsx=summary), workers=1, progress=progress
    ) as result:
        line = result.line
    return line, store.put_file(summary)
