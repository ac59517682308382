"""Spanish regions as the ``holidays`` package knows them (brief §2.4: Spain needs one).

An address names its region freely: an autonomous community or a province, by its
ISO 3166-2 code (``ES-MD``, ``MD``, ``ES-M``) or by a common name, in Spanish or in the
co-official language (``Comunidad de Madrid``, ``Catalunya``, ``Bizkaia``, ``Alacant``,
``A Coruña``/``La Coruña``). :func:`es_subdivision` maps each to the autonomous community
code that ``holidays.ES`` accepts; a province counts with its community's holidays. A name
it does not know is refused, never replaced by the national calendar.

The codes, the official names and the province → community links come from ``pycountry``
(ISO 3166-2:ES) and ``Spain.subdivisions_aliases``; only the common names neither
lists are written here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pycountry

from correspondence.calendar import holiday_class

# Common names that neither ISO 3166-2 nor holidays lists, by ISO code (without "ES-").
_COMMON_NAMES: dict[str, tuple[str, ...]] = {
    # Autonomous communities
    "AN": ("Andalusia",),
    "AR": ("Aragó", "Aragon"),
    "AS": ("Principado de Asturias", "Asturies", "Principáu d'Asturies"),
    "CN": ("Islas Canarias", "Canary Islands"),
    "CT": ("Cataluña", "Catalonia", "Generalitat de Catalunya"),
    "CL": ("Castile and León", "Castilla-León"),
    "CM": ("Castile-La Mancha", "Castilla La Mancha"),
    "EX": (),
    "GA": ("Galiza", "Comunidade Autónoma de Galicia"),
    "IB": ("Baleares", "Balears", "Balearic Islands"),
    "MC": ("Región de Murcia",),
    "MD": ("Comunidad de Madrid", "Community of Madrid"),
    "NC": ("Comunidad Foral de Navarra", "Nafarroa", "Nafarroako Foru Komunitatea", "Navarre"),
    "PV": (
        "Euskadi",
        "Euskal Autonomia Erkidegoa",
        "Basque Country",
        "Comunidad Autónoma Vasca",
        "País Basc",
    ),
    "RI": ("Rioja",),
    "VC": (
        "Comunitat Valenciana",
        "Comunidad Valenciana",
        "Valencian Community",
        "País Valencià",
    ),
    # Provinces
    "A": ("Alacant", "Alicante/Alacant"),
    "C": ("Coruña", "A Coruña", "La Coruña"),
    "CS": ("Castelló", "Castellón de la Plana", "Castelló de la Plana", "Castellón/Castelló"),
    "GC": ("Las Palmas de Gran Canaria", "Palmas"),
    "GI": ("Girona", "Gerona"),
    "L": ("Lleida", "Lérida"),
    "BI": ("Vizcaya", "Biscay"),
    "SS": ("Guipúzcoa", "Gipuzkoa"),
    "VI": ("Araba", "Araba/Álava", "Álava/Araba"),
    "OR": ("Ourense", "Orense"),
    "V": ("València", "Valencia/València"),
    "NA": ("Navarra",),
    "PM": ("Illes Balears", "Islas Baleares"),
    "TF": ("Tenerife", "Santa Cruz de Tenerife"),
    "O": ("Oviedo",),
}


def _key(name: str) -> str:
    """Case, accents, punctuation and spacing do not matter: ``Castilla-La Mancha`` and
    ``castilla la mancha`` are one key."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", bare).split())


def _variants(official: str) -> list[str]:
    """``'Madrid, Comunidad de'`` → also ``'Comunidad de Madrid'``; ``'Girona [Gerona]'`` →
    ``'Girona'`` and ``'Gerona'``."""
    names = [part.strip() for part in re.split(r"[\[\]/]", official) if part.strip()]
    out = []
    for name in names:
        out.append(name)
        if ", " in name:
            head, tail = name.split(", ", 1)
            out.append(f"{tail} {head}")
            out.append(head)
    return out


@cache
def _table() -> dict[str, str]:
    """Every known key → the ``holidays.ES`` community code."""
    spain = holiday_class("ES")
    communities = set(spain.subdivisions)
    table: dict[str, str] = {}
    for sub in (s for s in pycountry.subdivisions if s.country_code == "ES"):
        code = sub.code.removeprefix("ES-")
        parent = (sub.parent_code or sub.code).removeprefix("ES-")
        community = code if code in communities else parent
        if community not in communities:
            raise RuntimeError(f"ISO 3166-2 {sub.code} maps to no holidays.ES subdivision")
        names = [sub.code, code, *_variants(sub.name), *_COMMON_NAMES.get(code, ())]
        for name in names:
            table.setdefault(_key(name), community)
    for alias, code in spain.subdivisions_aliases.items():
        table.setdefault(_key(alias), code)
    return table


def es_subdivision(region: str) -> str | None:
    """The ``holidays.ES`` community code of a Spanish region name or ISO code, or None.

    A name written in index order (``Balears, Illes``, ``Rioja, La``) is read both ways."""
    table = _table()
    found = table.get(_key(region))
    if found is None and "," in region:
        head, tail = region.split(",", 1)
        found = table.get(_key(f"{tail} {head}"))
    return found
