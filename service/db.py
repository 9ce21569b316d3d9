"""Database engine and the one session dependency (one transaction per request)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from service import audit

_SQLITE_MMAP_BYTES = 1 << 34  # address space, not memory; SQLite caps it at its build limit


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,  # values are personal data; errors must not log them
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Reads through a memory map, not a read() per page: a match reads rows of
            # random profiles (a third of its database time went to page reads).
            cursor.execute(f"PRAGMA mmap_size={_SQLITE_MMAP_BYTES}")
            cursor.close()

        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
    )


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request: committed if the handler returns, else rolled back."""
    with Session(request.app.state.db_engine, expire_on_commit=False) as session:
        principal = request.scope.get("state", {}).get("principal")
        if principal is not None:
            audit.attach(session, principal)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
