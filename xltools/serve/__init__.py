"""``xltools serve``: the local intake page (issue 15, part 2).

Bureaus sign in with the token the officer sent them, upload their return and get the check
at once (the verdicts of ``xltools check``), with the checked copy to download; the officer's
page shows the roster's status, every submission with its findings, and merges what was
accepted. Every upload is kept by its SHA-256 (never overwritten), every decision logged.

One job per module: ``config`` (settings), ``store`` (SQLite records and the blob store),
``tokens`` (bureau tokens and the officer's secret), ``security`` (sessions, CSRF, request
limits, safe names), ``intake`` (checking one upload), ``officer`` (the roster's status and the
merge job), ``pages`` (the Chinese HTML), ``app`` (the routes), ``command`` (the CLI).
Starlette, uvicorn, python-multipart and Jinja2 (the ``serve`` extra) are imported only here.
"""
