"""EEN partnering profiles: references, mapping, errors, public view, EOI drafts."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import codes
from schemas.limits import MAX_MARKETS, MAX_TEXT_CHARS, MAX_TITLE_CHARS
from schemas.matches import MatchResult
from schemas.organizations import OrganizationRead
from service.een import eoi, mapping
from service.een.mapping import EenFileError, EenProfileError, map_profile

DATA = Path(__file__).resolve().parent.parent / "data" / "een"
NOW = datetime(2025, 10, 1, tzinfo=UTC)
SAMPLES: list[dict[str, Any]] = json.loads((DATA / "sample_profiles.json").read_text("utf-8"))[
    "profiles"
]
BROKEN = json.loads((DATA / "broken_profiles.json").read_text("utf-8"))
MAPPED_FIELDS = {"reference", "type", "owner_country", "targeted_countries"}


def _sample(reference: str) -> dict[str, Any]:
    return copy.deepcopy(next(p for p in SAMPLES if p["reference"] == reference))


def _errors(item: Any) -> list[tuple[str, str]]:
    with pytest.raises(EenProfileError) as caught:
        map_profile(item, now=NOW)
    return caught.value.errors


# -- references ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    [
        "TOCZ20240903021",
        "BOIT20250305012",
        "BRFR20241120015",
        "TRAT20250210003",
        "RDRES20250401002",
        "TODE12345678",  # 8 digits
        "TODE12345678901234",  # 14 digits
    ],
)
def test_type_first_references_are_accepted(reference: str) -> None:
    assert mapping.REFERENCE_PATTERN.fullmatch(reference)


@pytest.mark.parametrize(
    ("reference", "profile_type"),
    [("UKTR20150103001", "TR"), ("CZBO20140826001", "BO"), ("DERDR20180101002", "RDR")],
)
def test_older_country_first_references_are_accepted(reference: str, profile_type: str) -> None:
    assert mapping.REFERENCE_PATTERN.fullmatch(reference)
    assert mapping.reference_types(reference) == [profile_type]


@pytest.mark.parametrize(
    "reference",
    [
        "",
        "TOCZ2024",  # too few digits
        "TOCZ123456789012345",  # 15 digits
        "XXCZ20240903021",  # no type
        "UKUK20150103001",  # no type either way
        "TO CZ20240903021",
        "TOC120240903021",
        "tocz20240903021",  # the pattern is upper case (map_profile upper-cases first)
        "TOCZ20240903021X",
        "RDCZ20240903021",
        "20240903021",
        "TOCZE20240903021",
    ],
)
def test_garbage_references_are_refused(reference: str) -> None:
    assert not mapping.REFERENCE_PATTERN.fullmatch(reference)
    assert mapping.reference_types(reference) == []


def test_ambiguous_reference_is_resolved_by_the_type_field() -> None:
    # TRTO…: a technology request from Tonga, or an old Turkish technology offer
    assert mapping.reference_types("TRTO20150103001") == ["TR", "TO"]
    item = _sample("TODE20250114007") | {"reference": "TRTO20150103001"}
    assert map_profile(item, now=NOW).profile_type == "TO"
    del item["type"]
    assert map_profile(item, now=NOW).profile_type == "TR"  # type-first reading wins
    assert _errors(item | {"type": "BO"}) == [
        ("type", "BO does not match the reference TRTO20150103001")
    ]


def test_lower_case_reference_is_upper_cased() -> None:
    mapped = map_profile(_sample("TODE20250114007") | {"reference": " tode20250114007 "}, now=NOW)
    assert mapped.external_ref == mapped.details["reference"] == "TODE20250114007"


# -- files -----------------------------------------------------------------------------


def test_file_may_be_a_list_or_an_object_with_profiles() -> None:
    assert mapping.parse_file(json.dumps(SAMPLES).encode()) == SAMPLES
    assert len(mapping.parse_file((DATA / "sample_profiles.json").read_bytes())) == len(SAMPLES)
    assert mapping.parse_file(b"\xef\xbb\xbf[]") == []  # BOM


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "invalid JSON"),
        (b"reference;title\nTOCZ20240903021;x", "invalid JSON"),
        (b'{"profiles": [}', "invalid JSON at line 1"),
        (b'[{"x": NaN}]', "NaN is not a JSON number"),
        (b"\xff\xfe[]", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
        (b'{"items": []}', "expected a JSON list of profiles"),
        (b'{"profiles": {"a": 1}}', "expected a JSON list of profiles"),
        (b'"profiles"', "expected a JSON list of profiles"),
        (b"42", "expected a JSON list of profiles"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused(content: bytes, message: str) -> None:
    with pytest.raises(EenFileError, match=message):
        mapping.parse_file(content)


# -- mapping the samples ---------------------------------------------------------------


def test_samples_cover_the_documented_cases() -> None:
    types = {mapping.reference_types(p["reference"])[0] for p in SAMPLES}
    assert types == set(mapping.PROFILE_TYPES)
    assert 8 <= len(SAMPLES) <= 12
    assert {p["status"].upper() for p in SAMPLES} >= {"PUBLISHED", "EXPIRED", "ARCHIVED"}
    assert any(p["owner_country"] == "UK" for p in SAMPLES)


@pytest.mark.parametrize("item", SAMPLES, ids=[p["reference"] for p in SAMPLES])
def test_every_sample_maps_and_keeps_every_field(item: dict[str, Any]) -> None:
    mapped = map_profile(item, now=NOW)
    details = mapped.details
    assert set(details) >= set(item)
    for key, value in item.items():
        if key not in MAPPED_FIELDS:
            assert details[key] == value, key
    assert json.loads(json.dumps(details)) == details
    assert mapped.external_ref == item["reference"]
    assert details["type"] == mapped.profile_type
    organization = mapped.organization
    assert len(organization.profiles) == 1
    profile = organization.profiles[0]
    assert profile.title == item["title"]
    assert item["title"] in (profile.offers + profile.needs)
    assert organization.country == codes.normalize_country(item["owner_country"])
    assert profile.markets == [codes.normalize_country(c) for c in item["targeted_countries"]]
    # anonymous: the name is a label, not the owner's name
    assert organization.name.startswith("EEN ")
    assert item["reference"] in organization.name
    assert organization.ico is None
    assert organization.contacts == []


def test_keyword_codes_stay_strings_with_leading_zeros() -> None:
    mapped = map_profile(_sample("TRAT20250210003"), now=NOW)
    keywords = mapped.organization.profiles[0].keywords
    assert keywords == ["011007", "02002009", "11007"]  # 011007 and 11007 are two keywords
    assert mapped.details["technology_keywords"] == ["011007", "02002009"]
    assert mapped.details["market_keywords"] == ["11007"]
    for item in SAMPLES:
        for code in map_profile(item, now=NOW).organization.profiles[0].keywords:
            assert isinstance(code, str)
            assert code in item["technology_keywords"] + item["market_keywords"]


def test_uk_becomes_gb() -> None:
    mapped = map_profile(_sample("TOUK20250220011"), now=NOW)
    assert mapped.organization.country == "GB"
    assert mapped.organization.profiles[0].markets == ["CZ", "DE", "GB", "IE"]
    assert mapped.details["owner_country"] == "GB"
    assert mapped.details["targeted_countries"] == ["CZ", "DE", "GB", "IE"]
    assert mapped.organization.name == "EEN technology offer TOUK20250220011 (GB, SME)"
    assert (
        map_profile(_sample("TRSK20250502001"), now=NOW).details["targeted_countries"][-1] == "GR"
    )  # EEN's EL


def test_offers_and_requests_fill_the_right_facets() -> None:
    offer = map_profile(_sample("TODE20250114007"), now=NOW).organization
    assert offer.kind == "research"
    assert offer.nace == ["72.19"]  # from EEN's "M.72.1.9 - Other research …"
    profile = offer.profiles[0]
    assert profile.offers.startswith("Machine vision system for automated defect detection")
    assert "Detection rate above 98 %" in profile.offers  # advantages
    assert "OPC UA" in profile.offers  # technical specification of an offer
    assert profile.needs.startswith("The partner is a foundry")  # partner_role

    request = map_profile(_sample("BRFR20241120015"), now=NOW).organization
    assert (request.kind, request.size) == ("company", "large")
    assert request.name == "EEN business request BRFR20241120015 (FR, large company)"
    profile = request.profiles[0]
    assert profile.needs.startswith("Suppliers of compostable bio-based packaging films")
    assert "EN 13432" in profile.needs
    assert profile.offers.startswith("Long-term purchase volumes")  # owner_brings

    request = map_profile(_sample("TRAT20250210003"), now=NOW).organization
    assert request.profiles[0].offers == ""


@pytest.mark.parametrize(
    ("reference", "matchable"),
    [
        ("TODE20250114007", True),
        ("TRAT20250210003", True),
        ("BOIT20250305012", True),
        ("BRFR20241120015", True),
        ("RDRES20250401002", True),
        ("UKTR20150103001", False),  # EXPIRED
        ("TOUK20250220011", True),  # "Published" in mixed case
        ("TOPL20230615004", False),  # PUBLISHED, but expired in 2024
        ("BONL20220310009", False),  # ARCHIVED
        ("TRSK20250502001", True),
    ],
)
def test_matchable(reference: str, matchable: bool) -> None:
    assert map_profile(_sample(reference), now=NOW).matchable is matchable


def test_validity() -> None:
    mapped = map_profile(_sample("TODE20250114007"), now=NOW)
    assert mapped.valid_until == datetime(2026, 1, 14, 23, 59, 59, tzinfo=UTC)
    # RDR: the call deadline when it comes before the expiry
    rdr = map_profile(_sample("RDRES20250401002"), now=NOW)
    assert rdr.valid_until == datetime(2025, 10, 20, 23, 59, 59, tzinfo=UTC)
    assert not map_profile(
        _sample("RDRES20250401002"), now=datetime(2025, 10, 21, tzinfo=UTC)
    ).matchable
    # offset date-times are kept in UTC
    offset = map_profile(_sample("BOIT20250305012"), now=NOW)
    assert offset.valid_until == datetime(2026, 3, 5, 9, 15, tzinfo=UTC)
    # no expiry: a year after publication, and a note says so
    inferred = map_profile(_sample("TRSK20250502001"), now=NOW)
    assert inferred.valid_until == datetime(2026, 5, 2, 23, 59, 59, tzinfo=UTC)
    assert any("one year after published_at" in note for note in inferred.notes)
    # no dates at all: no known end
    undated = _sample("TRSK20250502001")
    del undated["published_at"]
    assert map_profile(undated, now=NOW).valid_until is None


def test_expiry_at_now_and_closed_eoi_are_not_matchable() -> None:
    item = _sample("TODE20250114007")
    assert not map_profile(item, now=datetime(2026, 1, 14, 23, 59, 59, tzinfo=UTC)).matchable
    assert map_profile(item, now=datetime(2026, 1, 14, 23, 59, 58, tzinfo=UTC)).matchable
    assert not map_profile(item | {"open_for_eoi": False}, now=NOW).matchable
    assert not map_profile(item | {"status": "UNDER_REVIEW"}, now=NOW).matchable
    no_status = _sample("TODE20250114007")
    del no_status["status"]
    assert map_profile(no_status, now=NOW).matchable  # an export of published profiles
    naive_now = datetime(2025, 10, 1)  # read as UTC
    assert map_profile(item, now=naive_now).matchable


def test_unknown_fields_are_kept_in_details() -> None:
    item = _sample("TRSK20250502001")
    details = map_profile(item, now=NOW).details
    assert details["sector_groups"] == ["Renewable energy", "Automotive"]
    assert details["dissemination"] == {"restricted": False, "languages": ["en", "sk"]}


def test_texts_over_the_limits_are_shortened_at_a_sentence_end() -> None:
    sentence = "The casting line produces aluminium housings for electric drives. "
    item = _sample("TODE20250114007") | {
        "description": sentence * (2 * MAX_TEXT_CHARS // len(sentence)),
        "title": "Machine vision " * 40,
    }
    mapped = map_profile(item, now=NOW)
    profile = mapped.organization.profiles[0]
    assert len(profile.offers) <= MAX_TEXT_CHARS
    assert profile.offers.endswith("electric drives.")
    assert profile.title is not None
    assert len(profile.title) <= MAX_TITLE_CHARS
    assert profile.title.endswith("vision…")
    assert any(note.startswith("offers shortened") for note in mapped.notes)
    assert any(note.startswith("title shortened") for note in mapped.notes)
    assert mapped.details["description"] == item["description"]  # the full text stays


def test_more_targeted_countries_than_markets_are_cut_with_a_note() -> None:
    countries = sorted(codes.ISO_COUNTRIES)[: MAX_MARKETS + 10]
    mapped = map_profile(_sample("TODE20250114007") | {"targeted_countries": countries}, now=NOW)
    assert mapped.organization.profiles[0].markets == countries[:MAX_MARKETS]
    assert mapped.details["targeted_countries"] == countries
    assert mapped.notes


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("micro", "micro"),
        ("Medium", "medium"),
        ("SME <=10", "micro"),
        ("SME < 10", "micro"),
        ("SME ≤10 employees", "micro"),
        ("SME 11-49", "small"),
        ("SME 11-50", "small"),
        ("SME 50 - 249", "medium"),
        ("SME 51-250", "medium"),
        ("251-500", "large"),
        (">250", "large"),
        ("> 250", "large"),
        ("1000+", "large"),
        ("Large company", "large"),
        ("42", "small"),
        ("SME", None),
    ],
)
def test_sizes(value: str, size: str | None) -> None:
    assert mapping.map_size(value) == size


@pytest.mark.parametrize("value", ["huge", "", ">10", "employees"])
def test_unknown_sizes_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="unknown size"):
        mapping.map_size(value)


@pytest.mark.parametrize(
    ("owner_type", "kind"),
    [
        ("University", "research"),
        ("R&D Institution", "research"),
        ("Research and technology organisation", "research"),
        ("RTO", "research"),
        ("Industry", "company"),
        ("Industry SME <= 10", "company"),
        ("Large company", "company"),
        ("Start-up company", "company"),
        ("SME", "company"),
    ],
)
def test_owner_types(owner_type: str, kind: str) -> None:
    item = _sample("TRAT20250210003") | {"owner_type": owner_type}
    assert map_profile(item, now=NOW).organization.kind == kind


@pytest.mark.parametrize("owner_type", ["Other", "Public authority", "Cluster", ""])
def test_unknown_owner_types_are_refused(owner_type: str) -> None:
    errors = _errors(_sample("TRAT20250210003") | {"owner_type": owner_type})
    assert [name for name, _ in errors] == ["owner_type"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("C.28.4.1 - Manufacture of metal forming machinery", "28.41"),
        ("C28.41", "28.41"),
        ("28.410", "28.410"),
        ("C", "C"),
        ("M.72", "72"),
    ],
)
def test_nace_forms(value: str, code: str) -> None:
    item = _sample("TRAT20250210003") | {"nace": [value]}
    assert map_profile(item, now=NOW).organization.nace == [code]


def test_dates() -> None:
    assert mapping.parse_date("2025-01-14") == datetime(2025, 1, 14, 23, 59, 59, tzinfo=UTC)
    assert mapping.parse_date("2025-01-14T08:00:00") == datetime(2025, 1, 14, 8, tzinfo=UTC)
    assert mapping.parse_date("2025-01-14T08:00:00Z") == datetime(2025, 1, 14, 8, tzinfo=UTC)
    for bad in ("31/12/2025", "2025-02-30", "20250114", "tomorrow"):
        with pytest.raises(ValueError, match="ISO date"):
            mapping.parse_date(bad)


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    list(zip(BROKEN["profiles"], BROKEN["expected_errors"], strict=True)),
    ids=[f"broken{i}" for i in range(len(BROKEN["profiles"]))],
)
def test_broken_profiles_give_exactly_the_expected_errors(
    item: Any, expected: list[list[str]]
) -> None:
    if not expected:
        map_profile(item, now=NOW)
        return
    errors = _errors(item)
    assert len(errors) == len(expected), errors
    for (name, message), (expected_name, fragment) in zip(errors, expected, strict=True):
        assert name == expected_name
        assert fragment in message


def test_broken_file_reads_as_an_export() -> None:
    items = mapping.parse_file((DATA / "broken_profiles.json").read_bytes())
    assert len(items) == len(BROKEN["expected_errors"])


def test_all_bad_fields_are_listed_at_once() -> None:
    item = {
        "reference": 20240903021,
        "title": None,
        "summary": {"text": "x"},
        "market_keywords": "011007",
        "nace": [28.41],
        "deadline": 20251020,
        "owner_country": ["CZ"],
        "owner_type": None,
        "owner_size": 12,
    }
    errors = _errors(item)
    assert [name for name, _ in errors] == [
        "reference",
        "title",
        "summary",
        "market_keywords",
        "nace",
        "deadline",
        "owner_country",
        "owner_type",
        "owner_size",
    ]
    with pytest.raises(EenProfileError, match="reference: expected a string, got a number"):
        map_profile(item, now=NOW)


def test_more_keyword_codes_than_the_limit_are_an_error() -> None:
    codes_ = [f"{n:06d}" for n in range(31)]
    errors = _errors(_sample("TODE20250114007") | {"technology_keywords": codes_})
    assert errors == [("technology_keywords", "more than 30 keyword codes in all")]


ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    10**30,
    True,
    False,
    "",
    " ",
    "x",
    "011007",
    "UK",
    "2025-01-01",
    [],
    [None],
    [1, "a"],
    [[]],
    [{}],
    ["UK", "XX"],
    {},
    {"reference": "TOCZ20240903021"},
    {"a": [1, {"b": None}]},
    "x" * 20_000,
]


def _check_outcome(item: Any) -> None:
    """The item maps to JSON-serialisable details, or fails with a list of (str, str)."""
    try:
        mapped = map_profile(item, now=NOW)
    except EenProfileError as exc:
        errors = exc.errors
    else:
        json.dumps(mapped.details)
        return
    assert errors
    assert all(isinstance(n, str) and isinstance(m, str) for n, m in errors)


@pytest.mark.parametrize("field", sorted(mapping.KNOWN_FIELDS | {"extra"}))
def test_odd_types_raise_only_profile_errors(field: str) -> None:
    for value in ODD_VALUES:
        _check_outcome(_sample("RDRES20250401002") | {field: value})


@pytest.mark.parametrize("item", [None, 0, "TOCZ20240903021", [], [SAMPLES[0]], True, 1.5])
def test_a_profile_that_is_not_an_object_is_a_profile_error(item: Any) -> None:
    errors = _errors(item)
    assert errors[0][0] == ""
    assert "must be a JSON object" in errors[0][1]


def test_python_values_that_are_not_json_are_profile_errors() -> None:
    item = _sample("TODE20250114007") | {"extra": {1, 2}, "float": float("nan")}
    assert [name for name, _ in _errors(item)] == ["extra", "float"]
    assert _errors({1: "x"}) == [("", "field names must be strings")]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=300, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    overrides=st.dictionaries(st.sampled_from(sorted(mapping.KNOWN_FIELDS)), _json, max_size=6),
    base=st.sampled_from(SAMPLES),
)
def test_any_json_gives_a_mapping_or_a_profile_error(
    overrides: dict[str, Any], base: dict[str, Any]
) -> None:
    _check_outcome(copy.deepcopy(base) | overrides)


@settings(max_examples=100, database=None, deadline=None)
@given(item=_json)
def test_random_json_items_are_refused_with_profile_errors(item: Any) -> None:
    with pytest.raises(EenProfileError):
        map_profile(item, now=NOW)


# -- public view -----------------------------------------------------------------------


def test_public_view_shows_country_type_and_size_only() -> None:
    item = _sample("TOUK20250220011") | {
        "owner_name": "Heatstore Ltd",
        "contact": {"name": "Jane Smith", "email": "jane@example.com"},
    }
    details = map_profile(item, now=NOW).details
    assert details["owner_name"] == "Heatstore Ltd"  # kept for the owner's EEN partner
    assert mapping.public_view(details) == {
        "owner_country": "GB",
        "owner_type": "Industry",
        "owner_size": "SME 50-249",
    }
    assert mapping.public_view({"owner_country": "CZ", "owner_size": 5}) == {
        "owner_country": "CZ",
        "owner_type": None,
        "owner_size": None,
    }


# -- expression of interest ------------------------------------------------------------

CLIENT_NAME = "Moravská slévárna Přerov s.r.o."


def _eoi_inputs() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    mapped = map_profile(_sample("TODE20250114007"), now=NOW)
    profile = mapped.organization.profiles[0]
    een_profile = {
        "id": 501,
        "title": profile.title,
        "offers": profile.offers,
        "needs": profile.needs,
        "external_ref": mapped.external_ref,
        "details": mapped.details,
    }
    summary = (
        f"{CLIENT_NAME} offers “Aluminium and iron castings for pumps and gearboxes.”, which "
        "answers the need “The partner is a foundry or a machine builder …” (similarity 0.71)."
    )
    result = MatchResult.model_validate(
        {
            "rank": 1,
            "profile_id": 77,
            "organization": {
                "id": 12,
                "name": CLIENT_NAME,
                "kind": "company",
                "region": "CZ071",
                "country": "CZ",
            },
            "score": 0.7342,
            "components": {"need_offer": 0.71, "offer_need": 0.64, "keywords": None},
            "explanation": {
                "summary": summary,
                "need_offer": {
                    "need_sentence": "The partner is a foundry or a machine builder that "
                    "integrates the system in its casting or finishing line.",
                    "offer_sentence": "Aluminium and iron castings for pumps and gearboxes.",
                    "similarity": 0.71,
                },
                "offer_need": {
                    "need_sentence": "Automatická kontrola vad odlitků strojovým viděním.",
                    "offer_sentence": "A convolutional neural network classifies porosity.",
                    "similarity": 0.64,
                },
                "shared_keywords": [],
                "shared_concepts": [
                    {"id": "machine-vision", "en": "machine vision", "cs": "strojové vidění"}
                ],
            },
        }
    ).model_dump(mode="json")
    client = OrganizationRead.model_validate(
        {
            "id": 12,
            "kind": "company",
            "name": CLIENT_NAME,
            "ico": "25896318",
            "ror": None,
            "country": "CZ",
            "region": "CZ071",
            "nace": ["24.51"],
            "size": "medium",
            "website": "https://www.example.cz",
            "contacts": None,
            "version": 1,
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
            "profiles": [],
        }
    ).model_dump(mode="json")
    return een_profile, result, client


def test_eoi_draft_has_what_an_advisor_files() -> None:
    een_profile, result, client = _eoi_inputs()
    draft = eoi.draft(een_profile, result, client, now=NOW)
    assert json.loads(json.dumps(draft)) == draft
    assert draft["een_profile"]["reference"] == "TODE20250114007"
    assert draft["een_profile"]["type"] == "TO"
    assert draft["een_profile"]["title"] == een_profile["title"]
    assert draft["een_profile"]["expires_at"] == "2026-01-14"
    assert draft["een_profile"]["owner"] == {
        "owner_country": "DE",
        "owner_type": "R&D Institution",
        "owner_size": None,
    }
    organization = draft["interested_organization"]
    assert organization["name"] == CLIENT_NAME
    assert organization["ico"] == "25896318"
    assert (organization["country"], organization["region"]) == ("CZ", "CZ071")
    assert draft["match"]["summary"] == result["explanation"]["summary"]
    assert (draft["match"]["rank"], draft["match"]["score"]) == (1, 0.7342)
    assert [e["relation"] for e in draft["match"]["evidence"]] == ["need_offer", "offer_need"]
    assert draft["match"]["shared_concepts"] == ["machine vision (strojové vidění)"]
    assert draft["proposed_partnership_types"] == _sample("TODE20250114007")["partnership_types"]
    for placeholder in draft["to_complete"].values():
        assert placeholder.startswith(eoi.PLACEHOLDER_MARK)
    assert draft["warnings"] == []


def test_eoi_text_can_be_pasted() -> None:
    een_profile, result, client = _eoi_inputs()
    text = eoi.as_text(eoi.draft(een_profile, result, client))
    for fragment in (
        "TODE20250114007",
        "Technology offer (TO)",
        een_profile["title"],
        CLIENT_NAME,
        "IČO:",
        "25896318",
        "CZ071 Olomoucký kraj",
        result["explanation"]["summary"],
        "Aluminium and iron castings for pumps and gearboxes.",
        "Automatická kontrola vad odlitků strojovým viděním.",
        "machine vision (strojové vidění)",
        "- Commercial agreement with technical assistance",
        "Contact person: [TO COMPLETE:",
        "Message to the profile owner: [TO COMPLETE:",
    ):
        assert fragment in text, fragment
    assert text.encode("utf-8").decode("utf-8") == text
    assert "Warnings" not in text
    assert "None" not in text


def test_eoi_warns_about_closed_or_expired_profiles() -> None:
    een_profile, result, client = _eoi_inputs()
    een_profile["details"] = een_profile["details"] | {"open_for_eoi": False, "status": "EXPIRED"}
    draft = eoi.draft(een_profile, result, client, now=datetime(2026, 2, 1, tzinfo=UTC))
    assert len(draft["warnings"]) == 3
    assert "has passed" in draft["warnings"][2]
    assert "Warnings" in eoi.as_text(draft)


def test_eoi_for_another_organisation_is_refused() -> None:
    een_profile, result, client = _eoi_inputs()
    with pytest.raises(ValueError, match="the client is 13"):
        eoi.draft(een_profile, result, client | {"id": 13})


def test_eoi_with_sparse_inputs() -> None:
    een_profile, result, client = _eoi_inputs()
    result["explanation"] = result["explanation"] | {"need_offer": None, "offer_need": None}
    client = client | {"ico": None, "website": None, "region": None, "size": None, "nace": []}
    een_profile["details"] = {"reference": "TODE20250114007"}
    draft = eoi.draft(een_profile, result, client)
    assert draft["match"]["evidence"] == []
    assert draft["proposed_partnership_types"] == []
    text = eoi.as_text(draft)
    assert "IČO" not in text
    assert "(none given in the EEN profile)" in text
    assert "None" not in text
