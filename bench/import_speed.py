"""``python -m bench.import_speed``: a bulk CSV import against raw ``encode`` of its texts.

Generates N synthetic company and research rows (default 10,000; seeded) as one
CSV file in memory — English and Czech offers and needs of 1 to 4 sentences, unique
valid IČO numbers, Czech NUTS 3 regions, CZ-NACE codes, keywords, markets and a
contact — and, in one process with one loaded packaged model
(``SentenceTransformerEmbedder()``), measures

- the baseline: ``embedder.encode`` of exactly the sentences the import embeds
  (``matching.text.sentences`` of every non-empty offers and needs text, in the
  import's groups of ``pipeline.BATCH`` rows, one call per group as in
  ``embed_facets``; ``encode`` itself applies the Czech glossary, so both sides
  pay for it). By default interleaved: each group is encoded beside the import's
  same batch, right after the first, right before the second and so on (from the
  job's progress reports, their time taken out of the import's), so a change of
  machine load, or going first, hits both sides alike; ``--order sequential``
  encodes all groups before the import;
- the import: the whole job as ``partnermatch import`` runs it in-process
  (``jobs.enqueue`` with status ``running``, then ``jobs.run_one`` with
  ``run_import``) on a fresh database: parsing, validation, upserts, embedding,
  vectors, change log, progress and commits. The embedder is wrapped in a timing
  proxy, which gives the share of import time spent outside ``encode`` and checks
  that the import encoded the very sentences of the baseline;
- the re-import of the same file: every row ``unchanged``, nothing encoded.

Before anything is timed, one batch of other rows is imported into a scratch SQLite
database and its groups encoded as the baseline does: the model and the import's code
(ORM mappers, statement compilation, validators) are warm on both sides, so a small
``--rows`` (800, say) measures the steady state, not first calls.

``ingest_ratio`` (``import_speed_ratio`` in the results file) = import rows/s ÷
baseline rows/s (N ÷ baseline seconds). The glossary's cache (``english_gloss``) is
cleared before and after each baseline part and before each import, so neither side
reads glosses the other made. The load average is printed at the start and the end:
other work on the machine slows both sides, and interleaving keeps it from biasing
the ratio, not from adding noise; the median over batches of baseline ÷ import
seconds (interleaved only) is printed beside the ratio, and a gap between the two
shows a change of load during the run. Exit 1 when the ratio is under
``--min-ratio`` (default 0.85) or a count or check is wrong.

Run: ``python -m bench.import_speed [--rows 10000] [--seed 11] [--min-ratio 0.85]
[--order interleaved|sequential] [--database-url URL]`` (the default is a temporary
SQLite file; another database must be empty). Results: printed, written to
``bench/results/import_speed.json``, and summed up as the last line printed, one JSON
object: ``{"rows": N, "ingest_ratio": …, "reimport_encoded": 0, …}``.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bench.common import environment, print_table, write_results
from matching.catalog import FACETS
from matching.embedder import SentenceTransformerEmbedder
from matching.language import detect_language, english_gloss
from matching.text import sentences
from schemas.codes import CZ_REGIONS
from service import jobs, migrate
from service.db import make_engine
from service.engine import MatchEngine
from service.imports import formats
from service.imports.formats import ParsedRow
from service.imports.pipeline import BATCH, run_import
from service.models import Job, Organization, ProfileVector, utcnow

CZECH_SHARE = 0.4  # rows written in Czech
RESEARCH_SHARE = 0.2  # research organisations among the rows
NO_NEEDS_SHARE = 0.15  # profiles with offers only
WARMUP_ROWS = BATCH  # one import batch

# -- word lists ----------------------------------------------------------------------

REGIONS = tuple(sorted(CZ_REGIONS))  # the 14 Czech NUTS 3 regions
COMPANY_NACE = ("25.62", "25.11", "25.61", "28.41", "28.13", "22.29", "29.32", "27.11", "26.12")
RESEARCH_NACE = ("72.19", "72.11", "85.42", "71.20")
MARKETS = ("DE", "AT", "SK", "PL", "FR", "IT", "NL", "SE", "HU", "US", "CN")
SIZES = ("micro", "small", "medium", "large")

EN_PROCESSES = (
    "CNC milling",
    "CNC turning",
    "laser cutting",
    "TIG welding",
    "robotic welding",
    "powder coating",
    "injection moulding",
    "sheet metal bending",
    "precision grinding",
    "3D printing",
    "heat treatment",
    "hot-dip galvanising",
    "die casting",
    "forging",
    "assembly",
)
EN_MATERIALS = (
    "steel",
    "stainless steel",
    "aluminium",
    "titanium",
    "copper",
    "plastic",
    "cast iron",
)
EN_INDUSTRIES = (
    "automotive",
    "aerospace",
    "food processing",
    "energy",
    "medical device",
    "railway",
    "agricultural machinery",
    "construction",
)
EN_COMPONENTS = (
    "hydraulic cylinders",
    "gearboxes",
    "electric motors",
    "sensors",
    "control cabinets",
    "printed circuit boards",
    "pumps",
    "valves",
    "heat exchangers",
    "conveyor systems",
)
EN_FIELDS = (
    "machine learning",
    "computer vision",
    "materials science",
    "battery technology",
    "hydrogen storage",
    "biotechnology",
    "nanomaterials",
    "power electronics",
    "cybersecurity",
    "precision agriculture",
    "water treatment",
    "additive manufacturing",
)
EN_METHODS = (
    "electron microscopy",
    "X-ray diffraction",
    "mass spectrometry",
    "fatigue testing",
    "thermal analysis",
    "computational fluid dynamics",
    "life cycle assessment",
)
EN_COUNTRIES = ("Germany", "Austria", "Poland", "Slovakia", "France", "the Nordic countries")

CS_PROCESSES = (
    "CNC frézování",
    "CNC soustružení",
    "laserové řezání",
    "svařování TIG",
    "robotické svařování",
    "práškové lakování",
    "vstřikování plastů",
    "ohýbání plechů",
    "přesné broušení",
    "3D tisk",
    "tepelné zpracování",
    "žárové zinkování",
    "tlakové lití",
    "kování",
    "montáž",
)
CS_MATERIALS = ("oceli", "nerezové oceli", "hliníku", "titanu", "mědi", "plastu", "litiny")
CS_INDUSTRIES = (
    "automobilový",
    "letecký",
    "potravinářský",
    "energetický",
    "železniční",
    "stavební",
    "chemický",
    "zdravotnický",
)
CS_COMPONENTS = (  # (accusative, genitive) plural
    ("hydraulické válce", "hydraulických válců"),
    ("převodovky", "převodovek"),
    ("elektromotory", "elektromotorů"),
    ("senzory", "senzorů"),
    ("rozvaděče", "rozvaděčů"),
    ("desky plošných spojů", "desek plošných spojů"),
    ("čerpadla", "čerpadel"),
    ("ventily", "ventilů"),
    ("výměníky tepla", "výměníků tepla"),
    ("dopravníky", "dopravníků"),
)
CS_FIELDS = (  # genitive
    "strojového učení",
    "počítačového vidění",
    "materiálového výzkumu",
    "bateriových technologií",
    "skladování vodíku",
    "biotechnologií",
    "nanomateriálů",
    "výkonové elektroniky",
    "kybernetické bezpečnosti",
    "precizního zemědělství",
    "úpravy vody",
    "aditivní výroby",
)
CS_METHODS = (  # accusative
    "elektronovou mikroskopii",
    "rentgenovou difrakci",
    "hmotnostní spektrometrii",
    "únavové zkoušky",
    "termickou analýzu",
    "simulace proudění",
    "analýzu životního cyklu",
)

TEMPLATES: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("en", "company", "offers"): (
        "We offer {process} of {material} parts for the {industry} industry.",
        "Our workshop handles {process} and {process2} in small and medium series.",
        "We manufacture {component} for {industry} customers across Europe.",
        "ISO 9001 certified production with {n} employees and our own design office.",
        "Parts up to {size} mm with tolerances down to 0.0{d} mm.",
        "We develop custom {component} including prototypes and testing.",
    ),
    ("en", "company", "needs"): (
        "We are looking for a supplier of {process} for {material} components.",
        "We seek a research partner in {field} to develop a new generation of {component}.",
        "Looking for distributors of our {component} in {country}.",
        "We need extra capacity for {process} of about {k} parts per month.",
        "Interested in a joint project on {field} with a university.",
    ),
    ("en", "research", "offers"): (
        "Our laboratory offers {method} and expert consulting in {field}.",
        "The department has long experience with {field} and {method}.",
        "We provide contract research in {field} for {industry} companies.",
        "Equipment includes {method}, {method2} and an accredited testing laboratory.",
        "Our team of {n} researchers publishes widely on {field}.",
    ),
    ("en", "research", "needs"): (
        "We seek industrial partners from the {industry} sector for applied research in {field}.",
        "Looking for a company to pilot our results in {field} in production.",
        "We need test samples of {material} from manufacturers.",
        "We look for partners for a Horizon Europe consortium on {field}.",
    ),
    ("cs", "company", "offers"): (
        "Nabízíme {process} dílů z {material} pro {industry} průmysl.",
        "Naše dílna zajišťuje {process} a {process2} v malých i středních sériích.",
        "Vyrábíme {component} pro zákazníky v celé Evropě.",
        "Máme certifikaci ISO 9001, {n} zaměstnanců a vlastní konstrukci.",
        "Obrábíme díly do {size} mm s přesností 0,0{d} mm.",
        "Vyvíjíme zakázkové {component} včetně prototypů a zkoušek.",
    ),
    ("cs", "company", "needs"): (
        "Hledáme dodavatele pro {process} dílů z {material}.",
        "Hledáme výzkumného partnera v oblasti {field} pro vývoj nových {component_gen}.",
        "Poptáváme distributory našich výrobků v zahraničí.",
        "Potřebujeme kapacitu na {process}, zhruba {k} kusů měsíčně.",
        "Máme zájem o společný projekt v oblasti {field} s univerzitou.",
    ),
    ("cs", "research", "offers"): (
        "Naše laboratoř nabízí {method} a odborné konzultace v oblasti {field}.",
        "Ústav má dlouholeté zkušenosti s výzkumem v oblasti {field}.",
        "Provádíme smluvní výzkum pro firmy z oboru {industry} průmysl.",
        "Vybavení zahrnuje {method}, {method2} a akreditovanou zkušební laboratoř.",
        "Náš tým má {n} výzkumníků a publikuje v oblasti {field}.",
    ),
    ("cs", "research", "needs"): (
        "Hledáme průmyslové partnery pro aplikovaný výzkum v oblasti {field}.",
        "Hledáme firmu, která ověří výsledky výzkumu v praxi.",
        "Potřebujeme zkušební vzorky z {material} od výrobců.",
        "Hledáme partnery do konsorcia projektu Horizont Evropa v oblasti {field}.",
    ),
}
KEYWORDS = {
    "en": (
        "CNC",
        "welding",
        "laser",
        "coating",
        "moulding",
        "prototyping",
        "automation",
        "robotics",
        "sensors",
        "hydraulics",
        "AI",
        "materials",
        "testing",
        "energy",
        "hydrogen",
        "batteries",
        "IoT",
    ),
    "cs": (
        "obrábění",
        "svařování",
        "laser",
        "lakování",
        "plasty",
        "prototypy",
        "automatizace",
        "robotika",
        "senzory",
        "hydraulika",
        "umělá inteligence",
        "materiály",
        "zkušebnictví",
        "energetika",
        "vodík",
        "baterie",
    ),
}
SURNAMES = ("Novák", "Svoboda", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák")
FIRST_NAMES = ("Jana", "Petr", "Lucie", "Tomáš", "Eva", "Martin", "Kateřina", "Jiří")
COMPANY_WORDS = ("Strojírny", "Precision", "Kovo", "Plast", "Tech", "Engineering", "Metal")
LEGAL_FORMS = ("s.r.o.", "a.s.", "spol. s r.o.")
POSITIONS = ("obchodní ředitel", "jednatel", "sales manager", "head of R&D", "vedoucí výroby")


# -- synthetic rows ------------------------------------------------------------------


def ico(base: int) -> str:
    """An 8-digit IČO: ``base`` (seven digits) and its mod-11 check digit."""
    digits = f"{base:07d}"
    total = sum(int(d) * w for d, w in zip(digits, range(8, 1, -1), strict=True))
    return digits + str((11 - total % 11) % 10)


def _text(rng: random.Random, language: str, kind: str, facet: str) -> str:
    """One to four sentences from the templates of one language, kind and facet."""
    templates = TEMPLATES[(language, kind, facet)]
    chosen = rng.sample(templates, rng.randint(1, min(4, len(templates))))
    czech = language == "cs"
    processes = CS_PROCESSES if czech else EN_PROCESSES
    fields_ = CS_FIELDS if czech else EN_FIELDS
    methods = CS_METHODS if czech else EN_METHODS
    component = rng.choice(CS_COMPONENTS) if czech else (rng.choice(EN_COMPONENTS),) * 2
    process, process2 = rng.sample(processes, 2)
    method, method2 = rng.sample(methods, 2)
    slots = {
        "process": process,
        "process2": process2,
        "material": rng.choice(CS_MATERIALS if czech else EN_MATERIALS),
        "industry": rng.choice(CS_INDUSTRIES if czech else EN_INDUSTRIES),
        "component": component[0],
        "component_gen": component[1],
        "field": rng.choice(fields_),
        "method": method,
        "method2": method2,
        "country": rng.choice(EN_COUNTRIES),
        "n": rng.randint(5, 400),
        "size": rng.choice((250, 500, 800, 1200, 2000, 4000)),
        "d": rng.randint(1, 5),
        "k": rng.choice((200, 500, 1000, 5000, 20000)),
    }
    return " ".join(template.format(**slots) for template in chosen)


def make_rows(count: int, seed: int) -> list[dict[str, str]]:
    """``count`` CSV rows (column → cell) with unique IČO numbers."""
    rng = random.Random(seed)
    bases = rng.sample(range(1_000_000, 10_000_000), count)
    rows = []
    for number, base in enumerate(bases, start=1):
        language = "cs" if rng.random() < CZECH_SHARE else "en"
        kind = "research" if rng.random() < RESEARCH_SHARE else "company"
        offers = _text(rng, language, kind, "offers")
        needs = "" if rng.random() < NO_NEEDS_SHARE else _text(rng, language, kind, "needs")
        surname = rng.choice(SURNAMES)
        if kind == "company":
            name = f"{surname} {rng.choice(COMPANY_WORDS)} {number} {rng.choice(LEGAL_FORMS)}"
            nace = rng.sample(COMPANY_NACE, rng.randint(1, 3))
            size = rng.choice(SIZES)
        else:
            name = f"Výzkumný ústav {surname} {number}, v. v. i."
            nace = rng.sample(RESEARCH_NACE, rng.randint(1, 2))
            size = ""
        first = rng.choice(FIRST_NAMES)
        rows.append(
            {
                "kind": kind,
                "name": name,
                "ico": ico(base),
                "ror": "",
                "country": "CZ",
                "region": rng.choice(REGIONS),
                "nace": "|".join(nace),
                "size": size,
                "website": f"https://www.org{number}.cz",
                "contact_name": f"{first} {surname}",
                "contact_position": rng.choice(POSITIONS),
                "contact_email": f"info@org{number}.cz",
                "contact_phone": f"+420 {rng.randint(200, 799)} {rng.randint(100, 999)} "
                f"{rng.randint(100, 999)}",
                "external_ref": f"BENCH-{number:06d}" if number % 2 == 0 else "",
                "title": offers.split(".")[0][:80],
                "offers": offers,
                "needs": needs,
                "keywords": "|".join(rng.sample(KEYWORDS[language], rng.randint(2, 6))),
                "markets": "|".join(rng.sample(MARKETS, rng.randint(0, 3))),
                "public": rng.choice(("ano", "true", "true", "true", "ne")),
            }
        )
    return rows


def to_csv(rows: Sequence[dict[str, str]]) -> bytes:
    """The rows as an import file: UTF-8, ``;`` delimiter, the columns of ``formats``."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=formats.COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def encode_groups(content: bytes) -> list[list[str]]:
    """The sentences the import encodes, one list per ``encode`` call: a group of
    ``BATCH`` rows, its profiles' non-empty facets in order, each split into sentences."""
    parsed = list(formats.read_csv(content))
    if not all(isinstance(row, ParsedRow) for row in parsed):
        raise SystemExit("the generated file has invalid rows")
    groups = []
    for start in range(0, len(parsed), BATCH):
        group = []
        for row in parsed[start : start + BATCH]:
            assert isinstance(row, ParsedRow)
            for profile in row.organization.profiles:
                for facet in FACETS:
                    text = getattr(profile, facet)
                    if text:
                        group += sentences(text)
        groups.append(group)
    return groups


# -- measuring -----------------------------------------------------------------------

Vectors = npt.NDArray[np.float32]


class TimedEmbedder:
    """The embedder as the engine sees it, timing and recording every ``encode``."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.seconds = 0.0
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> Vectors:
        """The inner ``encode``, timed."""
        started = time.perf_counter()
        vectors = self.inner.encode(texts)
        self.seconds += time.perf_counter() - started
        if texts:
            self.calls.append(list(texts))
        return vectors

    def reset(self) -> None:
        """Forget the timings and calls so far."""
        self.seconds = 0.0
        self.calls = []


def baseline(embedder: SentenceTransformerEmbedder, groups: Sequence[list[str]]) -> float:
    """Seconds of raw ``encode`` over the groups, one call each (the glossary's cache
    cleared before and after)."""
    english_gloss.cache_clear()
    started = time.perf_counter()
    for group in groups:
        embedder.encode(group)
    seconds = time.perf_counter() - started
    english_gloss.cache_clear()
    return seconds


def import_job(
    engine: MatchEngine,
    content: bytes,
    label: str,
    between: Callable[[int], None] | None = None,
) -> tuple[float, Job]:
    """Seconds of one in-process import job (as ``partnermatch import``) and the job.

    ``between(done)`` runs after each batch (from the job's progress report); its time
    is not the import's.
    """
    english_gloss.cache_clear()
    shown, paused = [0], [0.0]

    def progress(report: dict[str, Any]) -> None:
        done, total = report.get("done", 0), report.get("total", 0)
        if done >= shown[0] + total / 5 or done == total > shown[0]:
            print(f"  {label}: {done:,}/{total:,} rows", flush=True)
            shown[0] = done
        if between is not None and done:
            started = time.perf_counter()
            between(done)
            paused[0] += time.perf_counter() - started

    started = time.perf_counter()
    with Session(engine.db_engine, expire_on_commit=False) as session:
        job = jobs.enqueue(
            session,
            kind="import",
            content=content,
            created_by_key_id=None,
            format="csv",
            filename="bench.csv",
            status="running",
            started_at=utcnow(),
            heartbeat_at=utcnow(),
        )
        session.commit()
    handler = functools.partial(run_import, engine=engine)
    jobs.run_one(engine.db_engine, job, handler, on_progress=progress)
    seconds = time.perf_counter() - started - paused[0]
    with Session(engine.db_engine) as session:
        finished = session.get(Job, job.id)
    assert finished is not None
    return seconds, finished


def warm_up(embedder: SentenceTransformerEmbedder, seed: int) -> None:
    """Import one batch of rows (seeded ``seed``) into a scratch SQLite database and
    encode its groups as the baseline does, timing nothing."""
    content = to_csv(make_rows(WARMUP_ROWS, seed))
    with tempfile.TemporaryDirectory(prefix="pm-bench-warm-up-") as folder:
        url = f"sqlite:///{Path(folder) / 'warm-up.db'}"
        migrate.upgrade(url)
        db_engine = make_engine(url)
        engine = MatchEngine(
            embedder=embedder, db_engine=db_engine, snapshot_path=Path(folder) / "index.faiss"
        )
        import_job(engine, content, "warm-up")
        db_engine.dispose()
    baseline(embedder, encode_groups(content))


def load_average() -> tuple[float, float, float]:
    """The machine's load average over 1, 5 and 15 minutes."""
    return os.getloadavg()


def _loads(values: Sequence[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def counts(job: Job) -> dict[str, Any]:
    """A finished job's status and counts."""
    return {
        "status": job.status,
        "message": job.message,
        **{
            name: getattr(job, name)
            for name in ("total", "created", "updated", "unchanged", "failed")
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the import file")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--min-ratio", type=float, default=0.85, help="exit 1 below this")
    parser.add_argument(
        "--database-url", default=None, help="an empty database (default: temporary SQLite)"
    )
    parser.add_argument(
        "--order",
        choices=("interleaved", "sequential"),
        default="interleaved",
        help="baseline group by group between the import's batches, or all of it first",
    )
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be positive")

    rows = make_rows(args.rows, args.seed)
    content = to_csv(rows)
    groups = encode_groups(content)
    sentence_count = sum(len(group) for group in groups)
    facet_count = sum(bool(row["offers"]) + bool(row["needs"]) for row in rows)
    czech = sum(detect_language(row["offers"]) == "cs" for row in rows)
    print(
        f"{args.rows:,} rows (seed {args.seed}, {czech / args.rows:.0%} Czech), "
        f"{len(content) / 1e6:.1f} MB CSV, {facet_count:,} facet texts, "
        f"{sentence_count:,} sentences in {len(groups)} encode calls; "
        f"torch threads {torch.get_num_threads()}"
    )

    load_start = load_average()
    print(
        f"load average (1, 5, 15 min) at the start: {_loads(load_start)} on {os.cpu_count()} cores"
    )
    started = time.perf_counter()
    embedder = SentenceTransformerEmbedder()
    load_seconds = time.perf_counter() - started
    warm_up(embedder, args.seed + 1)
    print(f"model loaded in {load_seconds:.1f} s; model and import warmed up")

    with tempfile.TemporaryDirectory(prefix="pm-bench-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'import.db'}"
        migrate.upgrade(url)
        db_engine = make_engine(url)
        with Session(db_engine) as session:
            existing = session.exec(select(func.count()).select_from(Organization)).one()
        if existing:
            db_engine.dispose()
            print(f"the database holds {existing} organisations; it must be empty")
            return 2
        timed = TimedEmbedder(embedder)
        engine = MatchEngine(
            embedder=timed,
            db_engine=db_engine,
            snapshot_path=Path(folder) / "index.faiss",
        )
        baseline_seconds = 0.0
        baselined: list[int] = []
        batch_seconds: list[float] = []  # the import's, batch by batch
        group_seconds: list[float] = []  # the baseline's, group by group
        resumed = [time.perf_counter()]

        def encode_group(index: int) -> None:
            nonlocal baseline_seconds
            if index < len(groups):
                group_seconds.append(baseline(embedder, groups[index : index + 1]))
                baseline_seconds += group_seconds[-1]
                baselined.append(index)

        def interleaved(done: int) -> None:
            batch_seconds.append(time.perf_counter() - resumed[0])
            index = (done - 1) // BATCH  # the batch just stored
            if index % 2 == 0:  # its group after it, the next one before the next batch
                encode_group(index)
                encode_group(index + 1)
            resumed[0] = time.perf_counter()

        if args.order == "sequential":
            print("baseline …", flush=True)
            baseline_seconds = baseline(embedder, groups)
            baselined = list(range(len(groups)))
        resumed[0] = time.perf_counter()
        import_seconds, first = import_job(
            engine, content, "import", interleaved if args.order == "interleaved" else None
        )
        encode_seconds, import_calls = timed.seconds, timed.calls
        timed.reset()
        reimport_seconds, second = import_job(engine, content, "re-import")
        reimport_sentences = sum(len(call) for call in timed.calls)
        with Session(db_engine) as session:
            vectors = session.exec(select(func.count()).select_from(ProfileVector)).one()
        db_engine.dispose()

    baseline_rows_per_s = args.rows / baseline_seconds
    import_rows_per_s = args.rows / import_seconds
    ratio = import_rows_per_s / baseline_rows_per_s
    outside = import_seconds - encode_seconds
    batch_ratios = [
        group / stored for stored, group in zip(batch_seconds, group_seconds, strict=False)
    ]
    batch_median = statistics.median(batch_ratios) if batch_ratios else None
    n = args.rows
    checks = {
        "first import: all created": counts(first)
        == {"status": "done", "message": None, "total": n, "created": n}
        | {"updated": 0, "unchanged": 0, "failed": 0},
        "re-import: all unchanged": counts(second)
        == {"status": "done", "message": None, "total": n, "created": 0}
        | {"updated": 0, "unchanged": n, "failed": 0},
        "import encoded the baseline's sentences": import_calls == groups,
        "baseline encoded every group once": baselined == list(range(len(groups))),
        "re-import encoded nothing": reimport_sentences == 0,
        "one vector per facet text": vectors == facet_count,
        f"ratio >= {args.min_ratio}": ratio >= args.min_ratio,
    }

    print()
    print_table(
        ["path", "seconds", "rows/s", "sentences/s", "÷ baseline"],
        [
            [
                "baseline: embedder.encode",
                baseline_seconds,
                baseline_rows_per_s,
                sentence_count / baseline_seconds,
                "1.00",
            ],
            [
                "import job",
                import_seconds,
                import_rows_per_s,
                sentence_count / import_seconds,
                f"{ratio:.2f}",
            ],
            ["  of which encode", encode_seconds, "", sentence_count / encode_seconds, ""],
            ["re-import (unchanged)", reimport_seconds, n / reimport_seconds, "", ""],
        ],
    )
    print()
    print(
        f"baseline: {facet_count / baseline_seconds:.1f} texts/s, "
        f"{sentence_count / baseline_seconds:.1f} sentences/s ({args.order})"
    )
    print(
        f"import: {outside:.1f} s of {import_seconds:.1f} s outside encode "
        f"({outside / import_seconds:.1%}); encode in the import ÷ baseline = "
        f"{encode_seconds / baseline_seconds:.3f}"
    )
    if batch_median is not None:
        print(
            f"per batch: baseline ÷ import seconds, median {batch_median:.3f} (from "
            f"{min(batch_ratios):.3f} to {max(batch_ratios):.3f} over {len(batch_ratios)} "
            "batches; far from the ratio when the machine's load changed meanwhile)"
        )
    print(f"ingest_ratio = {ratio:.3f} (import rows/s ÷ baseline rows/s, same process)")
    load_end = load_average()
    print(f"load average (1, 5, 15 min) at the end: {_loads(load_end)} on {os.cpu_count()} cores")
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAILED'}] {name}")
    if not checks["first import: all created"]:
        print(f"  first import: {counts(first)}")
    if not checks["re-import: all unchanged"]:
        print(f"  re-import: {counts(second)}")

    database = (
        make_url(args.database_url).render_as_string(hide_password=True)
        if args.database_url
        else "temporary SQLite"
    )
    path = write_results(
        "import_speed",
        {
            "benchmark": "import_speed",
            "config": {
                "rows": n,
                "seed": args.seed,
                "min_ratio": args.min_ratio,
                "database": database,
                "order": args.order,
                "import_batch": BATCH,
                "model_id": embedder.model_id,
                "czech_share": CZECH_SHARE,
                "research_share": RESEARCH_SHARE,
                "no_needs_share": NO_NEEDS_SHARE,
            },
            "environment": environment(
                torch=torch.__version__, torch_threads=torch.get_num_threads()
            ),
            "data": {
                "csv_bytes": len(content),
                "czech_rows": czech,
                "facet_texts": facet_count,
                "sentences": sentence_count,
                "encode_calls": len(groups),
                "mean_sentence_chars": float(np.mean([len(s) for group in groups for s in group])),
            },
            "model_load_seconds": load_seconds,
            "baseline": {
                "seconds": baseline_seconds,
                "rows_per_s": baseline_rows_per_s,
                "texts_per_s": facet_count / baseline_seconds,
                "sentences_per_s": sentence_count / baseline_seconds,
            },
            "import": {
                "seconds": import_seconds,
                "rows_per_s": import_rows_per_s,
                "encode_seconds": encode_seconds,
                "outside_encode_seconds": outside,
                "outside_encode_share": outside / import_seconds,
                "job": counts(first),
            },
            "reimport": {
                "seconds": reimport_seconds,
                "rows_per_s": n / reimport_seconds,
                "sentences_encoded": reimport_sentences,
                "job": counts(second),
            },
            "import_speed_ratio": ratio,
            "batch_ratios": batch_ratios,
            "batch_ratio_median": batch_median,
            "load_average_start": list(load_start),
            "checks": checks,
            "passed": all(checks.values()),
        },
    )
    print(f"written {path}")
    summary = {
        "rows": n,
        "ingest_ratio": round(ratio, 3),
        "reimport_encoded": reimport_sentences,
        "outside_encode_share": round(outside / import_seconds, 3),
        "batch_ratio_median": None if batch_median is None else round(batch_median, 3),
        "baseline_rows_per_s": round(baseline_rows_per_s, 2),
        "import_rows_per_s": round(import_rows_per_s, 2),
        "min_ratio": args.min_ratio,
        "load_average": [round(value, 2) for value in load_end],
        "passed": all(checks.values()),
    }
    print(json.dumps(summary))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
