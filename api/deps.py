"""Dependencies shared by the routes: settings, database session, key, role and access log.

A route's signature says what it needs, e.g.
``access: Annotated[AccessRecord, Depends(require(Permission.read_cases))]``.

The key check and the access log run on the event loop: a key verified in the
last ``key_cache_seconds`` comes from memory (else from the database, in a
worker thread), and the log row is queued for the access-log writer, so a
request does not hop to a thread for either.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import ApiError
from api.security import KeyCache, Permission, VerifiedKey, allowed
from api.settings import ServiceSettings
from api.storage.access import AccessLogWriter, AccessRecord
from nlp.errors import CodebookError, InputError, ModelError


async def get_settings_dep(request: Request) -> ServiceSettings:
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


async def current_key(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="API key")] = None,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
) -> VerifiedKey:
    """The caller's active key; 401 when there is none or it is unknown or revoked."""
    token = _token(x_api_key, authorization)
    if token is None:
        raise ApiError(401, "an API key is required (X-API-Key or Authorization: Bearer)",
                       headers=_CHALLENGE)
    cache: KeyCache = request.app.state.key_cache
    key = cache.get(cache.token_digest(token))
    if key is None:
        key = await run_in_threadpool(cache.verify, request.app.state.sessions, token)
    if key is None:
        raise ApiError(401, "the API key is unknown or revoked", headers=_CHALLENGE)
    return key


CurrentKey = Annotated[VerifiedKey, Depends(current_key)]


async def _log(writer: AccessLogWriter, record: AccessRecord) -> None:
    if writer.deferred:
        writer.submit(record)
    else:
        await run_in_threadpool(writer.submit, record)


def require(permission: Permission) -> Callable[..., AsyncIterator[AccessRecord]]:
    """A dependency that admits keys whose role holds ``permission`` and logs the access.

    The yielded ``AccessRecord`` is written to the access log when the request
    ends, with the status it ended with and the case/document ids the route noted.
    """

    async def dependency(request: Request, key: CurrentKey) -> AsyncIterator[AccessRecord]:
        route = request.scope.get("route")
        record = AccessRecord(
            key_id=key.id,
            action=permission.value,
            method=request.method,
            path=request.url.path,
            status=getattr(route, "status_code", None) or 200,
        )
        writer: AccessLogWriter = request.app.state.access_writer
        if not allowed(key.role, permission):
            record.status = 403
            await _log(writer, record)
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
            await _log(writer, record)

    return dependency
