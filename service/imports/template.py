"""The CSV template of bulk imports: every column, one example row."""

from __future__ import annotations

import csv
import io

from service.imports.formats import COLUMNS

EXAMPLE = {
    "kind": "company",
    "name": "Strojírna Příklad s.r.o.",
    "ico": "25596641",
    "ror": "",
    "country": "CZ",
    "region": "CZ064",
    "nace": "28.41|25.62",
    "size": "small",
    "website": "https://www.example.cz",
    "contact_name": "Jana Nováková",
    "contact_position": "obchodní ředitelka",
    "contact_email": "jana.novakova@example.cz",
    "contact_phone": "+420 603 123 456",
    "external_ref": "",
    "title": "Přesné obrábění",
    "offers": "Obrábíme přesné ocelové díly pro balicí stroje.",
    "needs": "Hledáme partnera pro automatickou optickou kontrolu obrobků.",
    "keywords": "obrábění|strojové vidění",
    "markets": "DE|AT",
    "public": "true",
}


def csv_template() -> str:
    """The header and the example row, with a byte-order mark for spreadsheet programs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow([EXAMPLE[column] for column in COLUMNS])
    return "\ufeff" + buffer.getvalue()
