"""API keys: made with 256 random bits, stored as a SHA-256 digest, looked up by prefix.

A key reads ``sk_<prefix>_<secret>`` (``pk_`` for widget keys, which are
published on web pages). The prefix is public and finds the row; the digest of
the whole key is compared in constant time. A bootstrap key given in the
settings may have any form; its prefix is derived from its digest.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from service.auth.principal import Principal, Role
from service.models import ApiKey, utcnow

KEY_PATTERN = re.compile(r"^(sk|pk)_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
MIN_BOOTSTRAP_KEY_CHARS = 32
BOOTSTRAP_NAME = "bootstrap admin"


def digest(key: str) -> str:
    """The SHA-256 of a key, hex (what is stored)."""
    return hashlib.sha256(key.encode()).hexdigest()


def prefix_of(key: str) -> str:
    """The public lookup prefix of a key."""
    match = KEY_PATTERN.match(key)
    if match:
        return f"{match.group(1)}_{match.group(2)}"
    return "bk_" + digest("prefix:" + key)[:12]


def new_key(role: Role) -> str:
    """A fresh key: a public prefix and 256 random bits."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    public = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{'pk' if role == 'widget' else 'sk'}_{public}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class NewKey:
    """A key as created: the stored row and the plaintext, shown this once."""

    row: ApiKey
    plaintext: str


def create(
    session: Session,
    *,
    name: str,
    role: Role,
    regions: Sequence[str] = (),
    allowed_origins: Sequence[str] = (),
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
) -> NewKey:
    """Store a new key; the caller shows ``plaintext`` once and forgets it."""
    plaintext = new_key(role)
    row = ApiKey(
        prefix=prefix_of(plaintext),
        digest=digest(plaintext),
        name=name,
        role=role,
        regions=sorted(set(regions)),
        allowed_origins=sorted(set(allowed_origins)),
        expires_at=expires_at,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    session.add(row)
    session.flush()
    return NewKey(row=row, plaintext=plaintext)


def revoke(session: Session, key_id: int) -> ApiKey | None:
    """Revoke a key (kept for the audit); None if there is no such key."""
    row = session.get(ApiKey, key_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
    return row


def listing(session: Session, *, include_revoked: bool = False) -> list[ApiKey]:
    """Keys in id order."""
    query = select(ApiKey).order_by(col(ApiKey.id))
    if not include_revoked:
        query = query.where(col(ApiKey.revoked_at).is_(None))
    return list(session.exec(query))


def is_active(row: ApiKey, now: datetime) -> bool:
    """Not revoked and not expired."""
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


def verify(session: Session, key: str) -> ApiKey | None:
    """The active key row for a presented key, or None."""
    row = session.exec(select(ApiKey).where(ApiKey.prefix == prefix_of(key))).first()
    if row is None or not hmac.compare_digest(row.digest, digest(key)):
        return None
    return row if is_active(row, utcnow()) else None


def principal_of(row: ApiKey) -> Principal:
    """What a key row allows."""
    assert row.id is not None
    return Principal(
        key_id=row.id,
        name=row.name,
        role=row.role,  # type: ignore[arg-type]
        regions=frozenset(row.regions),
        allowed_origins=frozenset(row.allowed_origins),
        rate_limit_per_minute=row.rate_limit_per_minute,
    )


def any_key_made(session: Session) -> bool:
    """True once any key was ever made (revoked and expired ones count)."""
    return session.exec(select(ApiKey.id).limit(1)).first() is not None


def has_active_keys(session: Session) -> bool:
    """True when at least one key can be used."""
    now = utcnow()
    rows = session.exec(select(ApiKey).where(col(ApiKey.revoked_at).is_(None)))
    return any(is_active(row, now) for row in rows)


def widget_origins(session: Session) -> frozenset[str]:
    """Origins some active widget key allows (for CORS preflight, which has no key)."""
    now = utcnow()
    rows = session.exec(
        select(ApiKey).where(ApiKey.role == "widget", col(ApiKey.revoked_at).is_(None))
    )
    return frozenset(o for row in rows if is_active(row, now) for o in row.allowed_origins)


def ensure_bootstrap(session: Session, key: str) -> ApiKey:
    """Make the configured bootstrap key a working admin key; a bootstrap key that
    is no longer configured is revoked (this is how it is rotated)."""
    if len(key) < MIN_BOOTSTRAP_KEY_CHARS:
        raise ValueError(
            f"PARTNERMATCH_BOOTSTRAP_ADMIN_KEY must have at least {MIN_BOOTSTRAP_KEY_CHARS} "
            "characters (e.g. the output of: python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')"
        )
    wanted = digest(key)
    current: ApiKey | None = None
    for row in session.exec(select(ApiKey).where(col(ApiKey.bootstrap).is_(True))):
        if row.digest == wanted and row.revoked_at is not None:
            raise ValueError("PARTNERMATCH_BOOTSTRAP_ADMIN_KEY was revoked; configure a new key")
        if row.digest == wanted:
            current = row
        elif row.revoked_at is None:
            row.revoked_at = utcnow()
            session.add(row)
    if current is None:
        current = ApiKey(
            prefix=prefix_of(key),
            digest=wanted,
            name=BOOTSTRAP_NAME,
            role="admin",
            bootstrap=True,
        )
        session.add(current)
    session.flush()
    return current
