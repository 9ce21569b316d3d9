"""Validators for identifiers and codes: IČO, ROR, ISO countries, NUTS 3, CZ-NACE.

Each ``normalize_*`` returns the canonical form or raises ``ValueError`` with a
message that says what is wrong.
"""

from __future__ import annotations

import re

__all__ = [
    "CZ_REGIONS",
    "normalize_country",
    "normalize_ico",
    "normalize_nace",
    "normalize_region",
    "normalize_ror",
]

CZ_REGIONS: dict[str, str] = {
    "CZ010": "Hlavní město Praha",
    "CZ020": "Středočeský kraj",
    "CZ031": "Jihočeský kraj",
    "CZ032": "Plzeňský kraj",
    "CZ041": "Karlovarský kraj",
    "CZ042": "Ústecký kraj",
    "CZ051": "Liberecký kraj",
    "CZ052": "Královéhradecký kraj",
    "CZ053": "Pardubický kraj",
    "CZ063": "Kraj Vysočina",
    "CZ064": "Jihomoravský kraj",
    "CZ071": "Olomoucký kraj",
    "CZ072": "Zlínský kraj",
    "CZ080": "Moravskoslezský kraj",
}
# Codes used before the 2008 (CZ061, CZ062) and 2004 (CZ011) NUTS revisions.
CZ_REGION_ALIASES = {"CZ061": "CZ063", "CZ062": "CZ064", "CZ011": "CZ010"}

# ISO 3166-1 alpha-2, officially assigned codes.
ISO_COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK
    DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR
    GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM
    KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP
    MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL
    PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST
    SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG
    VI VN VU WF WS YE YT ZA ZM ZW""".split()
)
# EU sources (EEN, CORDIS, Eurostat) write UK and EL where ISO says GB and GR.
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}
# NUTS codes keep the EU prefixes.
NUTS_PREFIX = {"GB": "UK", "GR": "EL"}

_ICO_WEIGHTS = (8, 7, 6, 5, 4, 3, 2)
_ROR_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base 32, no i l o u
_ROR = re.compile(r"^(?:https?://ror\.org/)?(0[0-9a-hjkmnp-tv-z]{6}[0-9]{2})$")
_NUTS3 = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}$")
_NACE = re.compile(r"^(?:[A-U]|\d{2}(?:\.\d(?:\d{1,2})?)?)$")


def normalize_ico(value: str) -> str:
    """An 8-digit IČO with a valid mod-11 check digit.

    Seven digits are accepted and left-padded with a zero: older records drop it.
    """
    digits = value.strip().replace(" ", "")
    if not digits.isdigit() or len(digits) not in (7, 8):
        raise ValueError("IČO must be 8 digits")
    digits = digits.zfill(8)
    remainder = sum(int(d) * w for d, w in zip(digits, _ICO_WEIGHTS, strict=False)) % 11
    expected = (11 - remainder) % 10
    if int(digits[7]) != expected:
        raise ValueError(f"IČO {digits} has a wrong check digit (expected {expected})")
    return digits


def normalize_ror(value: str) -> str:
    """A ROR id as its canonical URL ``https://ror.org/0xxxxxxNN``, checksum verified."""
    match = _ROR.match(value.strip().lower())
    if match is None:
        raise ValueError("ROR id must be 'https://ror.org/' + 0, six base-32 characters, 2 digits")
    ror_id = match.group(1)
    number = 0
    for char in ror_id[:7]:
        number = number * 32 + _ROR_ALPHABET.index(char)
    expected = 98 - (number * 100) % 97
    if int(ror_id[7:]) != expected:
        raise ValueError(f"ROR id {ror_id} has a wrong checksum (expected {expected:02d})")
    return f"https://ror.org/{ror_id}"


def normalize_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code; UK and EL are mapped to GB and GR."""
    code = value.strip().upper()
    code = COUNTRY_ALIASES.get(code, code)
    if code not in ISO_COUNTRIES:
        raise ValueError(f"unknown country code {value!r} (ISO 3166-1 alpha-2 expected)")
    return code


def normalize_region(value: str, country: str | None = None) -> str:
    """A NUTS 3 code; Czech codes must be current ones (old ones are mapped).

    With ``country``, the code must belong to it.
    """
    code = value.strip().upper()
    code = CZ_REGION_ALIASES.get(code, code)
    if not _NUTS3.match(code):
        raise ValueError(f"unknown region code {value!r} (NUTS 3 expected, e.g. CZ080)")
    if code.startswith("CZ") and code not in CZ_REGIONS:
        raise ValueError(f"unknown region code {value!r}: not a Czech NUTS 3 region")
    if country is not None and code[:2] != NUTS_PREFIX.get(country, country):
        raise ValueError(f"region {code} is not in country {country}")
    return code


def normalize_nace(value: str) -> str:
    """A CZ-NACE code: section letter, division (28), group (28.4), class (28.41) or 28.410."""
    code = value.strip().upper()
    if not _NACE.match(code):
        raise ValueError(f"invalid CZ-NACE code {value!r} (e.g. C, 28, 28.4, 28.41, 28.410)")
    return code
