"""The import pipeline's batches (fake encoder, the test database): rows looked up in
memory answer as per-row queries would, a batch costs a few queries whatever its size,
and an unchanged file encodes nothing."""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service import jobs
from service.db import make_engine
from service.engine import MatchEngine
from service.imports import pipeline
from service.models import Job, utcnow
from tests.conftest import fresh_database

HEADER = (
    "kind;name;ico;ror;country;region;external_ref;title;offers;needs;contact_name;contact_email"
)
ALFA = (
    "company;Alfa s.r.o.;25596641;;CZ;CZ080;;;Frézování oceli.;Hledáme lakovnu.;Petr;petr@alfa.cz"
)
LAB_ROR = "https://ror.org/03kqpb082"


class _HashEncoder:
    """Unit vectors from a hash of each text; counts the sentences it encoded."""

    model_id = "fake"
    dimension = 8

    def __init__(self) -> None:
        self.sentences = 0

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.sentences += len(texts)
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], np.uint8) for t in texts]
        vectors = np.array(rows, np.float32).reshape(len(texts), self.dimension) + 1
        unit: npt.NDArray[np.float32] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return unit


def match_engine(database_url: str, folder: Path) -> MatchEngine:
    """A match engine over a database with the fake encoder (not started)."""
    return MatchEngine(
        embedder=_HashEncoder(),
        db_engine=make_engine(database_url),
        snapshot_path=folder / "index.faiss",
    )


@pytest.fixture
def engine(database_url: str, tmp_path: Path) -> Iterator[MatchEngine]:
    """A match engine over the test database."""
    made = match_engine(database_url, tmp_path)
    yield made
    made.db_engine.dispose()


def csv_file(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def run_job(engine: MatchEngine, content: bytes, format_: str = "csv") -> dict[str, Any]:
    """Import a file as the command line does; the finished job's counts and errors."""
    with Session(engine.db_engine, expire_on_commit=False) as session:
        job = jobs.enqueue(
            session,
            kind="import",
            content=content,
            created_by_key_id=None,
            format=format_,
            status="running",
            started_at=utcnow(),
            heartbeat_at=utcnow(),
        )
        session.commit()
    jobs.run_one(engine.db_engine, job, functools.partial(pipeline.run_import, engine=engine))
    with Session(engine.db_engine) as session:
        done = session.get(Job, job.id)
        assert done is not None
        names = ("status", "created", "updated", "unchanged", "failed", "errors")
        return {name: getattr(done, name) for name in names}


TABLES = {
    "organization": "id, kind, name, name_folded, ico, ror, country, region, website, version",
    "profile": "id, organization_id, title, offers, needs, source, external_ref, version",
    "contact": "id, organization_id, name, email",
    "profile_vector": "profile_id, facet, text_hash",
    "index_change": "DISTINCT profile_id",  # how often: once per batch
    "audit_event": "action, object_type, object_id, fields",  # merged within a batch
}


def stored(db_engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The rows an import writes, sorted."""
    with db_engine.connect() as connection:
        return {
            table: sorted(
                tuple(json.dumps(v) if isinstance(v, list) else v for v in row)  # JSON as text
                for row in connection.execute(text(f"SELECT {cols} FROM {table}"))
            )
            for table, cols in TABLES.items()
        }


# Rows that name organisations made or changed by earlier rows of the same batch.
STEPS: list[tuple[str, bytes]] = [
    (
        "csv",
        csv_file(
            ALFA,
            ALFA.replace(";;Frézování", ";Second;Frézování").replace("Alfa s.r.o.", "Alfa a.s."),
            ALFA.replace(";;Frézování", ";Third;Frézování").replace("petr@", "jana@"),
            "company;Gamma;;;CZ;CZ064;R1;;Welding.;;;",
            "company;Gamma 2;27074358;;CZ;CZ064;R1;T;Welding more.;;;",  # Gamma gets an IČO
            "company;gamma;;;CZ;CZ064;;;Welding x.;;;",  # so no Gamma by name any more
            "company;Gamma 2;27074358;;CZ;CZ064;;Other;Cutting.;;;",
            f"research;Lab;;{LAB_ROR};CZ;CZ064;;;Microscopy.;;;",
            f"research;Lab;;{LAB_ROR};CZ;CZ064;;Two;Microscopy 2.;;;",
            f"company;Conflict;25596641;{LAB_ROR};CZ;CZ064;;Z;X.;;;",
            "company;Conflict 2;25596641;;CZ;CZ064;R1;ZZ;X.;;;",
            "company;Delta;;;CZ;CZ064;;One;Pumps.;;;",
            "company;DELTA;;;CZ;CZ064;;Two;Pumps!;;Eva;eva@delta.cz",  # a name back and forth
            "company;Delta;;;CZ;CZ064;;Three;Valves.;;Eva;eva@delta.cz",
            "company;Delta;;;CZ;CZ064;;Four;Gears.;;Ivo;ivo@delta.cz",
        ),
    ),
    (
        "csv",
        csv_file(
            "company;Epsilon;;;CZ;CZ064;;;Drilling.;;Ota;ota@epsilon.cz",
            ALFA.replace("CZ080", "CZ064"),
            "company;Gamma 2;27074358;;CZ;CZ064;R1;T;Welding more.;;Jan;jan@gamma.cz",
            "company;Delta;;;CZ;CZ064;;Five;Gears 5.;;Ivo;ivo2@delta.cz",
            "company;Delta;;;CZ;CZ064;;three;Valves.;;Ivo;ivo3@delta.cz",
            "company;DELTA;;;CZ;CZ064;;Six;Gears 6.;;;",
            "company;Delta;;;CZ;CZ064;;Seven;Gears 7.;;;",  # the name as it was
        ),
    ),
    (
        "jsonl",
        b"\n".join(
            json.dumps(line).encode()
            for line in (
                {
                    "kind": "company",
                    "name": "J1",
                    "ico": "25596641",
                    "profiles": [{"title": "a", "offers": "A."}, {"title": "b", "offers": "B."}],
                    "contacts": [],
                },
                {"kind": "company", "name": "J2", "profiles": [{"offers": "C."}]},
                {"kind": "company", "name": "j2", "profiles": [{"offers": "C2."}]},
            )
        ),
    ),
]


def _import_steps(database_url: str, folder: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    engine = match_engine(database_url, folder)
    try:
        return [run_job(engine, content, format_) for format_, content in STEPS], stored(
            engine.db_engine
        )
    finally:
        engine.db_engine.dispose()


def test_a_batch_answers_as_row_by_row_lookups_do(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = request.getfixturevalue("_database_template")
    results = []
    for size in (1, pipeline.BATCH):  # 1: every row looked up in the database
        monkeypatch.setattr(pipeline, "BATCH", size)
        folder = tmp_path / f"batch-{size}"
        folder.mkdir()
        results.append(_import_steps(fresh_database(template, folder), folder))
    (one_by_one, expected), (batched, found) = results
    for job in (*one_by_one, *batched):  # a file's duplicate rows are reported first
        job["errors"].sort(key=lambda error: error["row"])
    assert batched == one_by_one
    assert {table: rows for table, rows in found.items() if table != "audit_event"} == {
        table: rows for table, rows in expected.items() if table != "audit_event"
    }
    # audited as when each row was written at once (as the pipeline did before batching):
    # Alfa renamed and back, Delta (5) renamed and back in the second file, and so on
    audit = found["audit_event"]
    assert Counter((action, kind) for action, kind, _, _ in audit) == {
        ("create", "organization"): 7,
        ("create", "profile"): 19,
        ("create", "contact"): 6,
        ("delete", "contact"): 6,
        ("update", "organization"): 3,
        ("update", "profile"): 1,
    }
    assert [event for event in audit if event[0] != "create"] == [
        *(("delete", "contact", contact, "[]") for contact in (1, 2, 3, 4, 6, 8)),
        ("update", "organization", 1, '["name"]'),
        ("update", "organization", 1, '["region"]'),
        ("update", "organization", 5, '["name"]'),
        ("update", "profile", 11, '["title"]'),
    ]
    assert [(j["created"], j["updated"], j["unchanged"], j["failed"]) for j in batched] == [
        (5, 8, 0, 2),
        (1, 6, 0, 0),
        (1, 1, 0, 1),
    ]
    assert [e["message"] for e in batched[0]["errors"]] == [
        "the row describes different stored organisations "
        "(ico → organisation 1, ror → organisation 4)",
        "the row describes different stored organisations "
        "(ico → organisation 1, external_ref → organisation 2)",
    ]


@contextmanager
def counted_selects(db_engine: Engine) -> Iterator[list[str]]:
    """The SELECT statements run meanwhile."""
    selects: list[str] = []

    def seen(*args: Any) -> None:
        statement = args[2]
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(db_engine, "before_cursor_execute", seen)
    try:
        yield selects
    finally:
        event.remove(db_engine, "before_cursor_execute", seen)


def _rows(numbers: range) -> bytes:
    """Two rows per number: by external reference with a contact, and by name."""
    rows = [
        f"company;Firma {n} s.r.o.;;;CZ;CZ064;REF-{n};;Obrábění dílů {n}. Svařování.;"
        f"Hledáme partnera {n}.;Jan {n};jan{n}@firma.cz"
        for n in numbers
    ]
    rows += [f"company;Dílna {n};;;CZ;CZ080;;T;Lakování {n}.;;;" for n in numbers]
    return csv_file(*rows)


def test_a_batch_costs_a_few_queries_whatever_its_rows(engine: MatchEngine) -> None:
    small, large = _rows(range(3)), _rows(range(100, 132))  # one batch each: 6 and 64 rows
    with counted_selects(engine.db_engine) as few:
        assert run_job(engine, small)["created"] == 6
    with counted_selects(engine.db_engine) as many:
        assert run_job(engine, large)["created"] == 64
    assert len(many) == len(few)
    encoder = engine.embedder
    assert isinstance(encoder, _HashEncoder)
    before = encoder.sentences
    with counted_selects(engine.db_engine) as again:
        job = run_job(engine, large)
    assert (job["created"], job["updated"], job["unchanged"]) == (0, 0, 64)
    assert encoder.sentences == before  # unchanged text is never embedded again
    assert len(again) <= len(many) + 4  # profiles and contacts of the stored organisations
