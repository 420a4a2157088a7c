"""The routes. Bureau pages under ``/bureau``, the officer's under ``/officer``; every answer
to bad input is a Chinese message with a stable English code (HTML, or JSON when the request
asks for it), never a traceback.

Nothing a request names is ever a path: submissions and merges are looked up by number in the
database, blobs by the SHA-256 recorded there (:meth:`Store.blob` takes well-formed digests
only), and the file name a browser sends is display text (:func:`security.display_name`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote

import anyio
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from ..check.manifest import Manifest
from ..registry import Registry
from ..status import read_bureaus
from ..xlsx.limits import limits_from_env
from . import pages
from .config import ServeConfig
from .intake import check_upload
from .officer import (
    CANDIDATE,
    MERGE_STATES,
    MergeJobs,
    accepted_submissions,
    current,
    roster_status,
)
from .security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    LimitedReceive,
    Refused,
    TooLarge,
    check_csrf,
    check_origin,
    display_name,
    drain,
    new_csrf,
    new_session,
    session_expiry,
)
from .store import BureauRecord, Store, Submission, now
from .tokens import digest, ensure_officer, issue_tokens, same

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small fields beside the file
DRAIN_CAP = 64 * 1024 * 1024  # what is read and dropped of a refused body, so its answer arrives


class Service:
    """What the routes share: the settings, the store, the registry, the merge jobs."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.store = Store(config.database, config.blobs)
        self.registry = Registry.load(config.specs_dir)
        self.limits = limits_from_env()
        self.merges = MergeJobs(self.store, config.merges, config.specs_dir)
        self.limiter = anyio.CapacityLimiter(max(1, config.check_workers))
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()
        rows = read_bureaus(config.roster)
        # a distribution manifest (not a plain roster): each return is held to the copy issued
        # to its bureau, as `xltools check --manifest` holds it
        self.manifest = Manifest.of(config.roster, rows) if Manifest.holds(rows) else None
        roster = [BureauRecord(b.bureau_id, b.name, b.template) for b in rows]
        self.issued = issue_tokens(self.store, roster, config.tokens_file)
        self.officer_secret = ensure_officer(self.store, config.officer_file)

    def reserve(self, bureau_id: str) -> None:
        """Count an upload against the bureau's limit before it is read (released by
        :meth:`release`), so that concurrent uploads cannot pass the limit together."""
        with self._lock:
            used = self.store.count_submissions(bureau_id) + self._in_flight.get(bureau_id, 0)
            if used >= self.config.max_uploads_per_bureau:
                raise Refused(
                    429,
                    "serve-too-many-uploads",
                    f"本单位已上传 {used} 次，达到上限 {self.config.max_uploads_per_bureau} 次，"
                    "不再接收。如确需再次提交，请联系主管部门。",
                )
            self._in_flight[bureau_id] = self._in_flight.get(bureau_id, 0) + 1

    def release(self, bureau_id: str) -> None:
        with self._lock:
            self._in_flight[bureau_id] -= 1


# -- helpers -------------------------------------------------------------------------------


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _session(request: Request) -> tuple[str, str | None] | None:
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    return _service(request).store.session(digest(value))


def _bureau(request: Request) -> BureauRecord:
    found = _session(request)
    if found is None or found[0] != "bureau" or found[1] is None:
        raise Refused(401, "serve-not-signed-in", "请先用本单位的上传口令登录。")
    bureau = _service(request).store.bureau(found[1])
    if bureau is None:
        raise Refused(401, "serve-not-signed-in", "请先用本单位的上传口令登录。")
    return bureau


def _officer(request: Request) -> None:
    found = _session(request)
    if found is None or found[0] != "officer":
        raise Refused(401, "serve-officer-only", "此页面只对主管人员开放，请用主管密钥登录。")


def _csrf_value(request: Request) -> str:
    return request.cookies.get(CSRF_COOKIE) or request.state.new_csrf


async def _post_guard(request: Request) -> dict[str, Any]:
    """The checks every POST passes: same site, CSRF; returns the (small) form."""
    check_origin(request.headers.get("origin"), request.headers.get("host"))
    sent = request.headers.get(CSRF_HEADER)
    form: dict[str, Any] = {}
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        limited = Request(request.scope, LimitedReceive(request.receive, FORM_OVERHEAD))
        try:
            async with limited.form(max_files=0, max_fields=10) as data:
                form = {k: v for k, v in data.items() if isinstance(v, str)}
        except (MultiPartException, HTTPException):
            raise Refused(400, "serve-bad-form", "提交的表单无法识别，请刷新页面后重试。") from None
        except TooLarge:
            raise Refused(413, "serve-bad-form", "提交的表单过大。") from None
    check_csrf(request.cookies.get(CSRF_COOKIE), sent or form.get(CSRF_FIELD))
    return form


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(pages.render(name, csrf=_csrf_value(request), **context), status)


def _sign_in(request: Request, role: str, bureau_id: str | None, target: str) -> Response:
    service = _service(request)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        service.store.drop_session(digest(old))
    value, stored = new_session()
    service.store.add_session(stored, role, bureau_id, session_expiry(service.config.session_hours))
    response = RedirectResponse(target, 303)
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=int(service.config.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=service.config.secure_cookies,
    )
    return response


def _download(path: os.PathLike[str] | str, name: str) -> FileResponse:
    response = FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    ascii_name = "".join(c if c.isascii() and c.isalnum() or c in "._-" else "_" for c in name)
    response.headers["content-disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    return response


def _checked_name(submission: Submission) -> str:
    stem = submission.filename.rsplit(".", 1)[0] or "自评表"
    return f"{stem}.checked.xlsx"


# -- bureau pages --------------------------------------------------------------------------


async def home(request: Request) -> Response:
    found = _session(request)
    if found is not None and found[0] == "bureau":
        return RedirectResponse("/bureau", 303)
    return _page(request, "login.html")


async def login(request: Request) -> Response:
    service = _service(request)
    form = await _post_guard(request)
    token = str(form.get("token", ""))
    bureau_id = service.store.bureau_by_token_hash(digest(token)) if token.strip() else None
    if bureau_id is None:
        service.store.log("anonymous", "login-refused", f"来自 {_client(request)}")
        raise Refused(
            403, "serve-bad-token", "上传口令不正确。请核对主管部门发来的口令（区分大小写）。"
        )
    service.store.log(f"bureau:{bureau_id}", "login", "")
    return _sign_in(request, "bureau", bureau_id, "/bureau")


async def logout(request: Request) -> Response:
    await _post_guard(request)
    value = request.cookies.get(SESSION_COOKIE)
    if value:
        _service(request).store.drop_session(digest(value))
    response = RedirectResponse("/", 303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def bureau_page(request: Request) -> Response:
    try:
        bureau = _bureau(request)
    except Refused:
        return RedirectResponse("/", 303)
    service = _service(request)
    submissions = service.store.submissions(bureau.bureau_id)
    return _page(
        request,
        "bureau.html",
        bureau=bureau,
        mine=roster_status([bureau], submissions).bureaus[0],
        submissions=submissions,
        limit_mb=f"{service.config.max_upload_bytes / 1024 / 1024:g}",
        max_uploads=service.config.max_uploads_per_bureau,
    )


async def upload(request: Request) -> Response:
    service = _service(request)
    bureau = _bureau(request)
    check_origin(request.headers.get("origin"), request.headers.get("host"))
    sent_csrf = request.headers.get(CSRF_HEADER)
    if sent_csrf is not None:  # the page's script sends it before the body: refused unread
        check_csrf(request.cookies.get(CSRF_COOKIE), sent_csrf)
    limit = service.config.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        service.store.log(f"bureau:{bureau.bureau_id}", "upload-too-large", f"{declared} 字节")
        if int(declared) <= DRAIN_CAP:
            await drain(request.receive, DRAIN_CAP)
        raise TooLarge(limit)
    service.reserve(bureau.bureau_id)
    body = LimitedReceive(request.receive, limit + FORM_OVERHEAD)
    try:
        return await _receive(request, body, service, bureau, limit, sent_csrf is not None)
    except TooLarge:
        if not body.ended:
            await drain(request.receive, DRAIN_CAP)
        raise
    finally:
        service.release(bureau.bureau_id)


async def _receive(
    request: Request,
    body: LimitedReceive,
    service: Service,
    bureau: BureauRecord,
    limit: int,
    csrf_done: bool,
) -> Response:
    actor = f"bureau:{bureau.bureau_id}"
    limited = Request(request.scope, body)
    try:
        async with limited.form(max_files=1, max_fields=5) as form:
            if not csrf_done:
                value = form.get(CSRF_FIELD)
                check_csrf(
                    request.cookies.get(CSRF_COOKIE), value if isinstance(value, str) else None
                )
            sent = form.get("file")
            if not isinstance(sent, UploadFile) or not sent.filename:
                raise Refused(400, "serve-no-file", "没有收到文件：请选择填好的自评表后再上传。")
            if sent.size is not None and sent.size > limit:
                raise TooLarge(limit)
            name = display_name(sent.filename)
            scratch = service.config.incoming
            sha, size = await anyio.to_thread.run_sync(service.store.put_stream, sent.file, scratch)
    except TooLarge:
        service.store.log(actor, "upload-too-large", "上传过程中超过大小上限，已中止")
        raise
    except (MultiPartException, HTTPException):
        raise Refused(
            400, "serve-bad-upload", "上传的内容无法识别（不是网页表单上传的文件），请重试。"
        ) from None
    if size > limit:  # the body limit leaves room for the form around the file
        service.store.log(actor, "upload-too-large", f"{size} 字节")
        raise TooLarge(limit)
    blob = service.store.blob(sha)
    assert blob is not None
    checked = await anyio.to_thread.run_sync(
        lambda: check_upload(
            blob,
            name,
            bureau,
            service.registry,
            service.limits,
            service.config.incoming,
            service.manifest,
        ),
        limiter=service.limiter,
    )
    before = current(service.store.submissions(bureau.bureau_id)).get(bureau.bureau_id)
    copy_sha = None
    if checked.copy is not None:
        copy_sha = service.store.put_file(checked.copy)
        checked.copy.unlink(missing_ok=True)
    report = checked.report
    number = service.store.add_submission(
        {
            "bureau_id": bureau.bureau_id,
            "sha256": sha,
            "bytes": size,
            "filename": name,
            "received": now(),
            "verdict": checked.verdict,
            "errors": report.count("error"),
            "warnings": report.count("warning"),
            "reason": checked.reason,
            "code": checked.code,
            "template": report.template,
            "unit": report.unit,
            "report": report.to_dict(),
            "copy_sha256": copy_sha,
        },
        actor,
        f"{name}：{pages.VERDICT_LABEL[checked.verdict]}"
        + (f"（{checked.code}）" if checked.code else "")
        + f"，错误 {report.count('error')}，警告 {report.count('warning')}",
    )
    if before is not None and checked.verdict in CANDIDATE:
        service.store.log(
            actor,
            "superseded",
            f"第 {before.id} 号提交（{before.filename}）被第 {number} 号提交替代：单位重新上传",
            before.id,
        )
    url = f"/bureau/submissions/{number}"
    if _wants_json(request):
        return JSONResponse(
            {
                "id": number,
                "url": url,
                "verdict": checked.verdict,
                "label": pages.VERDICT_LABEL[checked.verdict],
                "code": checked.code,
                "reason": checked.reason,
                "sha256": sha,
                "report": report.to_dict(),
            }
        )
    return RedirectResponse(url, 303)


def _own(request: Request) -> Submission:
    """The bureau's own submission of the path's number; any other is 'not found' (never
    'forbidden': whether another bureau's number exists is not told)."""
    bureau = _bureau(request)
    submission = _number(request, _service(request).store.submission)
    if submission is None or submission.bureau_id != bureau.bureau_id:
        raise Refused(404, "serve-not-found", "没有这条提交记录。")
    return submission


def _number(request: Request, find: Callable[[int], Any]) -> Any:
    value = request.path_params.get("number")
    return find(value) if isinstance(value, int) else None


def _submission_page(
    request: Request, submission: Submission, back: str, copy_url: str
) -> Response:
    if _wants_json(request):
        return JSONResponse(
            {
                "id": submission.id,
                "verdict": submission.verdict,
                "label": pages.VERDICT_LABEL[submission.verdict],
                "code": submission.code,
                "reason": submission.reason,
                "report": submission.report,
            }
        )
    return _page(
        request,
        "submission.html",
        s=submission,
        back=back,
        sentence=pages.sentence(
            submission.verdict, submission.errors, submission.warnings, submission.reason
        ),
        findings=[f for f in submission.report.get("findings", []) if f.get("severity") != "info"]
        + [f for f in submission.report.get("findings", []) if f.get("severity") == "info"],
        copy_url=copy_url if submission.copy_sha256 else "",
    )


async def bureau_submission(request: Request) -> Response:
    submission = _own(request)
    return _submission_page(
        request, submission, "/bureau", f"/bureau/submissions/{submission.id}/checked"
    )


async def bureau_checked(request: Request) -> Response:
    submission = _own(request)
    return _blob_download(request, submission.copy_sha256, _checked_name(submission))


def _blob_download(request: Request, sha: str | None, name: str) -> Response:
    path = _service(request).store.blob(sha) if sha else None
    if path is None:
        raise Refused(404, "serve-not-found", "没有这个文件。")
    return _download(path, name)


# -- officer pages -------------------------------------------------------------------------


async def officer_page(request: Request) -> Response:
    try:
        _officer(request)
    except Refused:
        return _page(request, "officer_login.html")
    store = _service(request).store
    submissions = store.submissions()
    report = roster_status(store.bureaus(), submissions)
    return _page(
        request,
        "officer.html",
        report=report,
        submissions=submissions,
        decisions=store.decisions(200),
        merges=store.merges(),
        merge_states=MERGE_STATES,
        mergeable=len(accepted_submissions(store)),
        running=_service(request).merges.running,
    )


async def officer_login(request: Request) -> Response:
    service = _service(request)
    form = await _post_guard(request)
    secret = str(form.get("secret", ""))
    stored = service.store.officer_hash()
    if not secret.strip() or stored is None or not same(digest(secret), stored):
        service.store.log("anonymous", "officer-login-refused", f"来自 {_client(request)}")
        raise Refused(
            403, "serve-bad-secret", "主管密钥不正确。密钥保存在数据文件夹的 officer.txt 中。"
        )
    service.store.log("officer", "officer-login", "")
    return _sign_in(request, "officer", None, "/officer")


def _officer_submission(request: Request) -> Submission:
    _officer(request)
    submission = _number(request, _service(request).store.submission)
    if submission is None:
        raise Refused(404, "serve-not-found", "没有这条提交记录。")
    return submission


async def officer_submission(request: Request) -> Response:
    submission = _officer_submission(request)
    return _submission_page(
        request, submission, "/officer", f"/officer/submissions/{submission.id}/checked"
    )


async def officer_original(request: Request) -> Response:
    submission = _officer_submission(request)
    return _blob_download(request, submission.sha256, submission.filename)


async def officer_checked(request: Request) -> Response:
    submission = _officer_submission(request)
    return _blob_download(request, submission.copy_sha256, _checked_name(submission))


async def merge_start(request: Request) -> Response:
    _officer(request)
    await _post_guard(request)
    number = _service(request).merges.start()
    if number is None:
        raise Refused(409, "serve-merge-running", "正在汇总，请等这一次完成后再开始。")
    if _wants_json(request):
        return JSONResponse({"id": number, "url": f"/officer/merges/{number}"})
    return RedirectResponse("/officer", 303)


async def merge_status(request: Request) -> Response:
    _officer(request)
    row = _number(request, _service(request).store.merge)
    if row is None:
        raise Refused(404, "serve-not-found", "没有这次汇总。")
    state = str(row["state"])
    message = (
        f"汇总中：已检查 {row['done']}/{row['total']} 份"
        if state == "running"
        else str(row["line"])
    )
    return JSONResponse(
        {
            "id": row["id"],
            "state": state,
            "label": MERGE_STATES.get(state, state),
            "done": row["done"],
            "total": row["total"],
            "message": message,
            "summary": f"/officer/merges/{row['id']}/summary.xlsx" if row["summary_sha256"] else "",
        }
    )


async def merge_summary(request: Request) -> Response:
    _officer(request)
    row = _number(request, _service(request).store.merge)
    if row is None:
        raise Refused(404, "serve-not-found", "没有这次汇总。")
    return _blob_download(request, row["summary_sha256"], f"汇总_{row['id']}.xlsx")


async def script(request: Request) -> Response:
    return Response(pages.SCRIPT, media_type="text/javascript; charset=utf-8")


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


# -- errors, headers, the app --------------------------------------------------------------


async def _refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, Refused)
    if _wants_json(request) or request.url.path.startswith("/officer/merges/"):
        response: Response = JSONResponse(
            {"code": error.code, "message": error.message}, error.status
        )
    else:
        back = "/officer" if request.url.path.startswith("/officer") else "/"
        response = _page(
            request, "error.html", error.status, code=error.code, message=error.message, back=back
        )
    if isinstance(error, TooLarge):
        response.headers["connection"] = "close"  # the rest of the body is not read
    return response


async def _http_error(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    if status == 404:
        refused = Refused(404, "serve-not-found", "没有这个页面。")
    elif status == 405:
        refused = Refused(405, "serve-method-not-allowed", "不支持这种请求方式。")
    else:
        refused = Refused(status, "serve-bad-request", "请求无法处理，请返回后重试。")
    return await _refused(request, refused)


async def _internal_error(request: Request, error: Exception) -> Response:
    import traceback

    traceback.print_exception(error)  # for the officer's console, never for the page
    return await _refused(
        request,
        Refused(
            500,
            "serve-internal-error",
            f"xltools 内部错误（{type(error).__name__}），上传的文件没有丢失。请把这条信息告诉主管部门。",
        ),
    )


class _Headers(BaseHTTPMiddleware):
    """A CSRF cookie for every visitor, and headers that keep pages out of frames, caches and
    other sites' scripts."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        fresh = request.cookies.get(CSRF_COOKIE) is None
        request.state.new_csrf = new_csrf() if fresh else ""
        response = await call_next(request)
        if fresh:
            response.set_cookie(
                CSRF_COOKIE,
                request.state.new_csrf,
                httponly=True,
                samesite="strict",
                secure=_service(request).config.secure_cookies,
            )
        response.headers.setdefault("cache-control", "no-store")
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["x-frame-options"] = "DENY"
        response.headers["referrer-policy"] = "same-origin"  # no-referrer makes Origin "null"
        response.headers["content-security-policy"] = (
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        return response


def create_app(config: ServeConfig) -> Starlette:
    """The ASGI app of one data directory (created, tokens issued, on the first call)."""
    service = Service(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        service.merges.wait(30)

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/bureau", bureau_page),
            Route("/bureau/upload", upload, methods=["POST"]),
            Route("/bureau/submissions/{number:int}", bureau_submission),
            Route("/bureau/submissions/{number:int}/checked", bureau_checked),
            Route("/officer", officer_page),
            Route("/officer/login", officer_login, methods=["POST"]),
            Route("/officer/submissions/{number:int}", officer_submission),
            Route("/officer/submissions/{number:int}/original", officer_original),
            Route("/officer/submissions/{number:int}/checked", officer_checked),
            Route("/officer/merge", merge_start, methods=["POST"]),
            Route("/officer/merges/{number:int}", merge_status),
            Route("/officer/merges/{number:int}/summary.xlsx", merge_summary),
            Route("/static/xltools-serve.js", script),
            Route("/healthz", health),
        ],
        middleware=[Middleware(_Headers)],
        exception_handlers={
            Refused: _refused,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
        lifespan=lifespan,
    )
    app.state.service = service
    return app
