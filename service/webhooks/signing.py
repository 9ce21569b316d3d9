"""Signing deliveries, and checking a signature as a receiver does (copy ``verify``).

Each delivery carries ``X-Partnermatch-Signature: t=<unix seconds>,v1=<hex>``,
where ``<hex>`` is the HMAC-SHA256, keyed with the webhook's secret, of the
timestamp, a full stop and the raw request body (``f"{t}.".encode() + body``).
A receiver recomputes it over the bytes it received, compares in constant time
and refuses timestamps far from its clock (replayed requests).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-Partnermatch-Signature"
EVENT_HEADER = "X-Partnermatch-Event"
DELIVERY_HEADER = "X-Partnermatch-Delivery"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret (192 random bits)."""
    return SECRET_PREFIX + secrets.token_hex(24)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its timestamp is within
    ``tolerance_seconds`` of ``now`` (default: the current time)."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = _digest(secret, timestamp, body).encode()
    return any(
        hmac.compare_digest(expected, given.encode(errors="replace")) for given in signatures
    )
