"""Broad fields of the taxonomy: top-level concepts grouped, narrower ones inherited."""

from __future__ import annotations

import pytest

from matching.taxonomy import Concept, Field, Taxonomy, field_ids, taxonomy

SMALL = Taxonomy(
    [
        Concept("manufacturing-technology", "technology", "manufacturing", "výroba"),
        Concept("machining", "technology", "machining", "obrábění", "manufacturing-technology"),
        Concept("milling", "technology", "milling", "frézování", "machining"),
        Concept("hydrogen", "technology", "hydrogen", "vodík"),
        Concept("consulting", "service", "consulting", "poradenství"),
    ],
    [],
    [
        Field("manufacturing", "Manufacturing", "Výroba", ("manufacturing-technology",)),
        Field("energy", "Energy", "Energetika", ("hydrogen",)),
    ],
)


def test_a_field_holds_its_concepts_and_all_their_descendants() -> None:
    assert SMALL.field_concepts("manufacturing") == {
        "manufacturing-technology",
        "machining",
        "milling",
    }
    assert SMALL.field_concepts("energy") == {"hydrogen"}
    with pytest.raises(KeyError):
        SMALL.field_concepts("cooking")


def test_shipped_fields_name_existing_top_level_concepts_once() -> None:
    shipped = taxonomy()
    assert 8 <= len(shipped.fields) <= 12
    assert field_ids() == tuple(shipped.fields)  # what the API accepts, in the same order
    seen: set[str] = set()
    for field in shipped.fields.values():
        assert field.label_en
        assert field.label_cs
        assert field.concepts
        for concept_id in field.concepts:
            assert concept_id in shipped.concepts, concept_id
            assert shipped.concepts[concept_id].broader is None, concept_id
            assert concept_id not in seen, f"{concept_id} is in two fields"
            seen.add(concept_id)


def test_shipped_fields_do_not_overlap_even_with_descendants() -> None:
    shipped = taxonomy()
    owners: dict[str, str] = {}
    for field_id in shipped.fields:
        for concept_id in shipped.field_concepts(field_id):
            assert concept_id not in owners, (concept_id, owners.get(concept_id), field_id)
            owners[concept_id] = field_id
    assert owners["machining"] == "manufacturing"  # under manufacturing-technology
    assert "consulting" not in owners  # cross-cutting services belong to no field


def test_a_czech_text_about_alloys_mentions_a_materials_concept() -> None:
    shipped = taxonomy()
    found = shipped.concepts_in("Nabízíme vývoj nových slitin a tepelné zpracování kovů")
    assert "metals-alloys" in found
    assert found & shipped.field_concepts("materials")
