"""Dashboard sign-in: an API key exchanged for a signed session cookie, with CSRF tokens.

The cookie carries only the key's id and the session's CSRF token, signed with
``CASELENS_SESSION_SECRET`` (itsdangerous) and expiring after
``CASELENS_SESSION_HOURS``; the key itself is never stored in the browser.  The
key is looked up again on every page, so revoking it ends the session.  Forms
that change state (sign-in, sign-out) carry a CSRF token that must match a
signed cookie.  Without a configured secret each process makes its own, so
sessions end on restart and do not carry across worker processes.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.security import Permission, allowed
from api.storage.access import AccessRecord, write_access
from api.storage.models import ApiKey

SESSION_COOKIE = "caselens_session"
LOGIN_CSRF_COOKIE = "caselens_login_csrf"
LOGIN_CSRF_SECONDS = 3600


class DashboardSettings(BaseSettings):
    """Settings of the dashboard's sessions, read from ``CASELENS_…`` variables."""

    model_config = SettingsConfigDict(env_prefix="CASELENS_", extra="ignore")

    session_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32),
                                min_length=16, description="key that signs session cookies")
    session_hours: float = Field(8.0, gt=0, description="hours a dashboard session lasts")


@lru_cache(maxsize=1)
def get_dashboard_settings() -> DashboardSettings:
    return DashboardSettings()


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_dashboard_settings().session_secret,
                                  salt=f"caselens-dashboard-{purpose}")


@dataclass(frozen=True)
class DashboardUser:
    key_id: str
    role: str
    csrf: str

    @property
    def may_view(self) -> bool:
        return allowed(self.role, Permission.aggregates)


def _set_cookie(request: Request, response: Response, name: str, value: str,
                max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def set_login_csrf(request: Request, response: Response, token: str) -> None:
    """Set the sign-in form's token as a signed cookie too (double submit)."""
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, _serializer("login").dumps(token),
                LOGIN_CSRF_SECONDS)


def login_csrf_ok(request: Request, submitted: str) -> bool:
    try:
        expected = _serializer("login").loads(request.cookies.get(LOGIN_CSRF_COOKIE, ""),
                                              max_age=LOGIN_CSRF_SECONDS)
    except BadSignature:
        return False
    return bool(submitted) and secrets.compare_digest(str(expected), submitted)


def start_session(request: Request, response: Response, key: ApiKey) -> None:
    settings = get_dashboard_settings()
    value = _serializer("session").dumps({"key_id": key.id, "csrf": new_csrf_token()})
    _set_cookie(request, response, SESSION_COOKIE, value, int(settings.session_hours * 3600))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def signed_in(request: Request) -> DashboardUser | None:
    """The user of a valid, unexpired session whose key is still active."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer("session").loads(
            raw, max_age=int(get_dashboard_settings().session_hours * 3600))
    except BadSignature:
        return None
    with request.app.state.sessions() as session:
        key = session.get(ApiKey, data.get("key_id"))
        if key is None or key.revoked_at is not None:
            return None
        return DashboardUser(key_id=key.id, role=key.role, csrf=str(data.get("csrf", "")))


def log_view(request: Request, user: DashboardUser, status: int = 200,
             case_ids: list[str | None] | None = None,
             document_ids: list[str | None] | None = None) -> None:
    """Write a dashboard page view to the access log, with the cases whose text it showed."""
    record = AccessRecord(key_id=user.key_id, action=Permission.aggregates.value,
                          method=request.method, path=request.url.path, status=status)
    record.touch(case_ids=case_ids or [], document_ids=document_ids or [])
    write_access(request.app.state.sessions, record)


def csrf_ok(user: DashboardUser, submitted: str) -> bool:
    """Whether a form posted in a session carries that session's CSRF token."""
    return bool(submitted) and secrets.compare_digest(user.csrf, submitted)
