"""Erasure of a person's data on request (GDPR art. 17).

Contacts of the person are deleted; where the person appears in the follow-up
record (as an opportunity's owner, as who made a change, inside a note or a
free-text match query) the text is replaced by ``[erased]``. The audit shows
that an erasure happened and what kinds of records it touched, never whom.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from schemas.access import ErasureRequest, ErasureResult
from service import audit
from service.models import Contact, MatchRun, Opportunity, OpportunityEvent, utcnow

ERASED = "[erased]"


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _is_person(contact: Contact, request: ErasureRequest) -> bool:
    return bool(
        (request.email and (contact.email or "").casefold() == request.email.casefold())
        or (request.name and contact.name.casefold() == request.name.casefold())
        or (request.phone and contact.phone and _digits(contact.phone) == _digits(request.phone))
    )


def _redact(text: str, terms: list[str]) -> str:
    for term in terms:
        text = re.sub(re.escape(term), ERASED, text, flags=re.IGNORECASE)
    return text


def _mentions(column: Any, terms: list[str]) -> ColumnElement[bool]:
    return or_(*(func.lower(column).contains(term.lower(), autoescape=True) for term in terms))


def erase(session: Session, request: ErasureRequest) -> ErasureResult:
    """Erase everything stored about one person; returns how many records changed."""
    terms = [term for term in (request.email, request.phone, request.name) if term]
    contacts = [c for c in session.exec(select(Contact)) if _is_person(c, request)]
    for contact in contacts:
        session.delete(contact)
    opportunities: list[Opportunity] = []
    if request.name:
        opportunities = list(
            session.exec(
                select(Opportunity).where(
                    func.lower(col(Opportunity.owner)) == request.name.casefold()
                )
            )
        )
        for opportunity in opportunities:
            opportunity.owner = None
            opportunity.version += 1
            opportunity.updated_at = utcnow()
            session.add(opportunity)
    events = list(
        session.exec(
            select(OpportunityEvent).where(
                or_(
                    _mentions(col(OpportunityEvent.actor), terms),
                    _mentions(col(OpportunityEvent.from_value), terms),
                    _mentions(col(OpportunityEvent.to_value), terms),
                    _mentions(col(OpportunityEvent.text), terms),
                )
            )
        )
    )
    for item in events:
        item.actor = _redact(item.actor, terms)
        item.from_value = None if item.from_value is None else _redact(item.from_value, terms)
        item.to_value = None if item.to_value is None else _redact(item.to_value, terms)
        item.text = None if item.text is None else _redact(item.text, terms)
        session.add(item)
    runs = list(session.exec(select(MatchRun).where(_mentions(col(MatchRun.query_text), terms))))
    for run in runs:
        run.query_text = _redact(run.query_text or "", terms)
        session.add(run)
    result = ErasureResult(
        contacts=len(contacts),
        opportunities=len(opportunities),
        events=len(events),
        match_runs=len(runs),
    )
    audit.record(
        session,
        "erase",
        "person",
        None,
        [name for name, count in result.model_dump().items() if count],
    )
    session.flush()
    return result
