"""API keys and roles.

A key is ``cl_<key id>_<secret>``. Only the SHA-256 of the secret is stored;
the key id (not secret) finds the row and names the caller in the access log,
and the digest is compared in constant time.

``KeyCache`` lets the service skip the database for a key it verified a few
seconds ago (``CASELENS_KEY_CACHE_SECONDS``). It holds digests of tokens, never
tokens, and only keys that passed; a revocation through ``revoke_key`` in this
process empties every cache's entries of that key at once, and a revocation
anywhere else (another worker, ``caselens keys revoke``) takes effect when the
entry expires.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
import weakref
from collections.abc import Callable
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


@dataclass(frozen=True)
class VerifiedKey:
    """What a request needs of its caller's key: the id and the role."""

    id: str
    role: str


class KeyCache:
    """Keys verified within the last ``ttl`` seconds, by SHA-256 of the whole token.

    A ``ttl`` of 0 turns the cache off. At most ``max_entries`` keys are held;
    the oldest entry gives way to a new one.
    """

    def __init__(self, ttl: float, max_entries: int = 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, VerifiedKey]] = {}
        self._lock = threading.Lock()
        self._revocations = 0  # a verification that raced a revocation is not cached
        _caches.add(self)

    @staticmethod
    def token_digest(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def get(self, digest: str) -> VerifiedKey | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[digest]
                return None
            return entry[1]

    def put(self, digest: str, key: VerifiedKey, revocations: int | None = None) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if revocations is not None and revocations != self._revocations:
                return
            self._entries.pop(digest, None)
            if len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[digest] = (self._clock() + self.ttl, key)

    def forget(self, key_id: str) -> None:
        """Drop every entry of ``key_id`` (it was revoked)."""
        with self._lock:
            self._revocations += 1
            for digest in [d for d, (_, k) in self._entries.items() if k.id == key_id]:
                del self._entries[digest]

    def verify(self, sessions: Callable[[], Session], token: str) -> VerifiedKey | None:
        """The key behind ``token`` from the cache, else from the database (then cached)."""
        digest = self.token_digest(token)
        cached = self.get(digest)
        if cached is not None:
            return cached
        revocations = self._revocations
        with sessions() as session:
            key = verify_key(session, token)
        if key is None:
            return None
        verified = VerifiedKey(id=key.id, role=key.role)
        self.put(digest, verified, revocations)
        return verified


_caches: weakref.WeakSet[KeyCache] = weakref.WeakSet()


def forget_key(key_id: str) -> None:
    """Drop ``key_id`` from every key cache of this process."""
    for cache in list(_caches):
        cache.forget(key_id)


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
    forget_key(key_id)
    return True


def allowed(role: str, permission: Permission) -> bool:
    return role in {r.value for r in ROLE_MATRIX[permission]}
