"""Pages call the service's own JSON API in-process, as the staff member who is logged in.

The pages stay a thin layer: the API keeps every rule (auth, idempotency, 409s,
caching) and a page sees exactly what that API would answer over HTTP.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field

from flask import current_app, request
from werkzeug.test import EnvironBuilder, run_wsgi_app

from shared import logs
from shared.pages.session import session_token


@dataclass
class ApiResult:
    status: int
    data: dict | list | None
    headers: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        if isinstance(self.data, dict):
            return str(self.data.get("message") or self.data.get("error") or self.status)
        return str(self.status)


def call_api(
    method: str,
    path: str,
    *,
    json=None,
    query: dict | None = None,
    headers: dict | None = None,
    as_user: bool = True,
    raw_body: bytes | None = None,
) -> ApiResult:
    """Run one API request through the app's WSGI stack and return its parsed JSON."""
    sent = dict(headers or {})
    request_id = logs.current("request_id")
    if request_id:  # one id for the page's request and the API call it makes
        sent.setdefault("X-Request-ID", request_id)
    token = session_token() if as_user else None
    if token:
        sent["Authorization"] = f"Bearer {token}"
    builder = EnvironBuilder(
        path=path,
        method=method,
        json=json if raw_body is None else None,
        data=raw_body,
        content_type="application/json" if raw_body is not None else None,
        query_string=query,
        headers=sent,
        base_url=request.host_url,
        environ_base={"REMOTE_ADDR": request.remote_addr or "127.0.0.1"},
    )
    environ = builder.get_environ()
    builder.close()
    app = current_app._get_current_object()
    with app.app_context():  # a fresh `g` for the inner request
        app_iter, status, response_headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
        body = b"".join(app_iter)
    code = int(status.split(" ", 1)[0])
    try:
        data = jsonlib.loads(body) if body else None
    except ValueError:
        data = None
    return ApiResult(code, data, dict(response_headers))
