"""Plain factory functions for request bodies, and a small realistic data set."""

from __future__ import annotations

from typing import Any


def profile(**overrides: Any) -> dict[str, Any]:
    """A profile body."""
    body: dict[str, Any] = {
        "offers": "We design and machine precision steel parts for packaging machines.",
        "needs": "We look for a partner to automate visual inspection of machined parts.",
        "keywords": ["machining", "machine vision"],
        "markets": ["DE", "AT"],
    }
    body.update(overrides)
    return body


def organization(**overrides: Any) -> dict[str, Any]:
    """An organisation body with one profile."""
    body: dict[str, Any] = {
        "kind": "company",
        "name": "Strojírna Test s.r.o.",
        "country": "CZ",
        "region": "CZ080",
        "nace": ["28.41"],
        "size": "small",
        "website": "https://example.cz",
        "profiles": [profile()],
    }
    body.update(overrides)
    return body


RESEARCH = [
    {
        "kind": "research",
        "name": "Institute of Foundry Research",
        "region": "CZ080",
        "nace": ["72.19"],
        "profiles": [
            {
                "offers": "We study aluminium die casting and porosity defects. Our lab runs "
                "X-ray computed tomography of castings and simulation of mould filling.",
                "needs": "We seek foundries that will pilot new casting simulation methods.",
                "keywords": ["die casting", "computed tomography", "porosity"],
            }
        ],
    },
    {
        "kind": "research",
        "name": "Centre for Machine Vision",
        "region": "CZ064",
        "nace": ["72.19"],
        "profiles": [
            {
                "offers": "We build machine vision systems for automated optical inspection of "
                "manufactured parts. Deep learning detects surface defects on production lines.",
                "needs": "We look for manufacturers who supply production data and test sites.",
                "keywords": ["machine vision", "deep learning", "inspection"],
            }
        ],
    },
    {
        "kind": "research",
        "name": "Food Microbiology Laboratory",
        "region": "CZ010",
        "nace": ["72.11"],
        "profiles": [
            {
                "offers": "We analyse microbial contamination in dairy products and develop "
                "probiotic starter cultures. We test the shelf life of fermented foods.",
                "needs": "We seek dairies to validate new starter cultures in production.",
                "keywords": ["dairy", "microbiology", "fermentation"],
            }
        ],
    },
    {
        "kind": "research",
        "name": "Polymer Processing Institute",
        "region": "CZ072",
        "nace": ["72.19"],
        "profiles": [
            {
                "offers": "We develop biodegradable polymer blends and test injection moulding "
                "of plastics. Rheology and mechanical testing of polymer composites.",
                "needs": "We want plastics processors to scale up biodegradable materials.",
                "keywords": ["polymers", "injection moulding", "biodegradable"],
            }
        ],
    },
]

COMPANIES = [
    {
        "kind": "company",
        "name": "Ostrava Castings a.s.",
        "region": "CZ080",
        "nace": ["24.53"],
        "profiles": [
            {
                "offers": "We produce aluminium die castings for the automotive industry.",
                "needs": "We need to reduce porosity in our aluminium castings and want "
                "X-ray inspection of parts.",
                "keywords": ["die casting", "porosity"],
                "markets": ["DE"],
            }
        ],
    },
    {
        "kind": "company",
        "name": "Mlékárna Vzor s.r.o.",
        "region": "CZ031",
        "nace": ["10.51"],
        "profiles": [
            {
                "offers": "We produce yoghurts, cheese and fermented milk products.",
                "needs": "We want to extend the shelf life of our yoghurts and need new "
                "probiotic cultures.",
                "keywords": ["dairy", "shelf life"],
                "markets": ["SK", "AT"],
            }
        ],
    },
    {
        "kind": "company",
        "name": "Zlín Plastics s.r.o.",
        "region": "CZ072",
        "nace": ["22.29"],
        "profiles": [
            {
                "offers": "We run injection moulding of plastic parts for household appliances.",
                "needs": "Customers ask for biodegradable plastics; we need help choosing and "
                "processing compostable polymer materials.",
                "keywords": ["injection moulding", "biodegradable"],
                "markets": ["DE", "PL"],
            }
        ],
    },
]


def profile_id_of(world: dict[str, dict[str, Any]], name: str) -> int:
    """The first profile id of a stored organisation, by name."""
    return int(world[name]["profiles"][0]["id"])
