"""Dependencies shared by the routes: settings, database session, key, role and access log.

A route's signature says what it needs, e.g.
``access: Annotated[AccessRecord, Depends(require(Permission.read_cases))]``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import ApiError
from api.security import Permission, allowed, verify_key
from api.settings import ServiceSettings
from api.storage.access import AccessRecord, write_access
from api.storage.models import ApiKey
from nlp.errors import CodebookError, InputError, ModelError


def get_settings_dep(request: Request) -> ServiceSettings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


SettingsDep = Annotated[ServiceSettings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _token(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def current_key(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="API key")] = None,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
) -> ApiKey:
    """The caller's active key; 401 when there is none or it is unknown or revoked."""
    token = _token(x_api_key, authorization)
    if token is None:
        raise ApiError(401, "an API key is required (X-API-Key or Authorization: Bearer)",
                       headers=_CHALLENGE)
    with request.app.state.sessions() as session:
        key = verify_key(session, token)
    if key is None:
        raise ApiError(401, "the API key is unknown or revoked", headers=_CHALLENGE)
    return key


CurrentKey = Annotated[ApiKey, Depends(current_key)]


def require(permission: Permission) -> Callable[..., Iterator[AccessRecord]]:
    """A dependency that admits keys whose role holds ``permission`` and logs the access.

    The yielded ``AccessRecord`` is written to the access log when the request
    ends, with the status it ended with and the case/document ids the route noted.
    """

    def dependency(request: Request, key: CurrentKey) -> Iterator[AccessRecord]:
        route = request.scope.get("route")
        record = AccessRecord(
            key_id=key.id,
            action=permission.value,
            method=request.method,
            path=request.url.path,
            status=getattr(route, "status_code", None) or 200,
        )
        sessions = request.app.state.sessions
        if not allowed(key.role, permission):
            record.status = 403
            write_access(sessions, record)
            raise ApiError(403, f"the role {key.role!r} may not use {permission.value}")
        try:
            yield record
        except StarletteHTTPException as exc:
            record.status = exc.status_code
            raise
        except (RequestValidationError, InputError):
            record.status = 422
            raise
        except (ModelError, CodebookError):
            record.status = 503
            raise
        except Exception:
            record.status = 500
            raise
        finally:
            write_access(sessions, record)

    return dependency
