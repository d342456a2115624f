"""API keys and roles.

A key is ``cl_<key id>_<secret>``. Only the SHA-256 of the secret is stored;
the key id (not secret) finds the row and names the caller in the access log,
and the digest is compared in constant time.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import ApiKey

KEY_PREFIX = "cl"


class Role(str, Enum):
    auditor = "auditor"
    qa_lead = "qa_lead"
    admin = "admin"


class Permission(str, Enum):
    analyse = "analyse"
    read_cases = "read_cases"
    store_documents = "store_documents"
    prescreen = "prescreen"
    feedback = "feedback"
    batches = "batches"
    themes = "themes"
    access_log = "access_log"
    aggregates = "aggregates"


_EVERYONE = frozenset(Role)
_ANALYSTS = frozenset({Role.qa_lead, Role.admin})

#: Which roles hold each permission (documented in the service README).
ROLE_MATRIX: dict[Permission, frozenset[Role]] = {
    Permission.analyse: _EVERYONE,
    Permission.read_cases: _EVERYONE,
    Permission.prescreen: _EVERYONE,
    Permission.feedback: _EVERYONE,
    Permission.themes: _EVERYONE,
    Permission.store_documents: _ANALYSTS,
    Permission.batches: _ANALYSTS,
    Permission.aggregates: _ANALYSTS,
    Permission.access_log: frozenset({Role.admin}),
}


@dataclass(frozen=True)
class NewKey:
    """A freshly created key; ``token`` is shown once and never stored."""

    id: str
    role: Role
    name: str
    token: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(session: Session, role: Role, name: str = "") -> NewKey:
    """Create and store a key with ``role``; return it with its one-time token."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(ApiKey(id=key_id, role=role.value, name=name, secret_hash=_digest(secret)))
    session.commit()
    return NewKey(id=key_id, role=role, name=name, token=f"{KEY_PREFIX}_{key_id}_{secret}")


def verify_key(session: Session, token: str) -> ApiKey | None:
    """The active key behind ``token``, or None for a malformed, unknown or revoked one."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_id or not secret:
        return None
    key = session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, _digest(secret)):
        return None
    return key


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(session: Session, key_id: str) -> bool:
    """Revoke a key; False when no such key exists. Revoking twice keeps the first time."""
    key = session.get(ApiKey, key_id)
    if key is None:
        return False
    if key.revoked_at is None:
        key.revoked_at = dt.datetime.now(dt.UTC)
        session.commit()
    return True


def allowed(role: str, permission: Permission) -> bool:
    return role in {r.value for r in ROLE_MATRIX[permission]}
