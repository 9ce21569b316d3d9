"""Identifier and code validation."""

from __future__ import annotations

import pytest

from schemas import codes


@pytest.mark.parametrize("ico", ["00216208", "68407700", "00216305", "49777513"])
def test_real_icos_pass(ico: str) -> None:
    assert codes.normalize_ico(ico) == ico


def test_seven_digit_ico_is_left_padded() -> None:
    assert codes.normalize_ico("0216208") == "00216208"


@pytest.mark.parametrize("ico", ["00216207", "68407701", "12345678"])
def test_wrong_check_digit_is_refused(ico: str) -> None:
    with pytest.raises(ValueError, match="check digit"):
        codes.normalize_ico(ico)


@pytest.mark.parametrize("ico", ["", "123", "1234567890", "0021620X"])
def test_malformed_ico_is_refused(ico: str) -> None:
    with pytest.raises(ValueError, match="8 digits"):
        codes.normalize_ico(ico)


def test_check_digit_rule_for_remainders_zero_and_one() -> None:
    # r = 0 -> check digit 1; r = 1 -> check digit 0 (DOMAIN.md)
    assert codes.normalize_ico("00000001") == "00000001"  # weighted sum 0
    assert codes.normalize_ico("00000060") == "00000060"  # 6*2 = 12, r = 1


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("03kqpb082", "https://ror.org/03kqpb082"),
        ("https://ror.org/03613d656", "https://ror.org/03613d656"),
        ("HTTPS://ROR.ORG/02J46QS45", "https://ror.org/02j46qs45"),
    ],
)
def test_ror_ids_are_canonical_urls(value: str, canonical: str) -> None:
    assert codes.normalize_ror(value) == canonical


@pytest.mark.parametrize("value", ["03kqpb083", "13kqpb082", "03kqpl082", "ror.org/03kqpb082x"])
def test_bad_ror_ids_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="ROR"):
        codes.normalize_ror(value)


def test_old_czech_regions_are_mapped() -> None:
    assert codes.normalize_region("CZ061") == "CZ063"
    assert codes.normalize_region("CZ062") == "CZ064"
    assert codes.normalize_region("cz011") == "CZ010"


def test_unknown_czech_region_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown region"):
        codes.normalize_region("CZ099")


def test_region_must_lie_in_country() -> None:
    assert codes.normalize_region("DE212", "DE") == "DE212"
    assert codes.normalize_region("UKI31", "GB") == "UKI31"
    assert codes.normalize_region("EL303", "GR") == "EL303"
    with pytest.raises(ValueError, match="not in country"):
        codes.normalize_region("CZ080", "SK")


def test_countries_map_eu_aliases() -> None:
    assert codes.normalize_country("uk") == "GB"
    assert codes.normalize_country("EL") == "GR"
    with pytest.raises(ValueError, match="unknown country"):
        codes.normalize_country("XX")


@pytest.mark.parametrize("code", ["C", "28", "28.4", "28.41", "28.410"])
def test_nace_levels(code: str) -> None:
    assert codes.normalize_nace(code) == code


@pytest.mark.parametrize("code", ["2841", "28.", "Z", "28.4100", "a.1"])
def test_bad_nace(code: str) -> None:
    with pytest.raises(ValueError, match="CZ-NACE"):
        codes.normalize_nace(code)
