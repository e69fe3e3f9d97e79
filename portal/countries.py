"""The countries of ISO 3166-1, named in the reader's language by Babel.

Babel's territories also hold regions ("European Union", "Eurozone"), pseudo-locales
("Pseudo-Accents") and "Unknown Region"; only what ISO 3166-1 lists is offered."""

from __future__ import annotations

from functools import lru_cache

import pycountry
from flask_babel import get_locale
from wtforms import SelectChoice


@lru_cache(maxsize=1)
def iso_countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 codes with their English names (for a code Babel cannot name)."""
    return {country.alpha_2: country.name for country in pycountry.countries}


def country_names(locale: object | None = None) -> dict[str, str]:
    """Every ISO 3166-1 country's name by its code, in ``locale``'s language (default: the reader's)."""
    territories = getattr(locale or get_locale(), "territories", {}) or {}
    return {code: territories.get(code) or english for code, english in iso_countries().items()}


def country_choices(first: str = "GB") -> list[SelectChoice]:
    """Every country for a select, ``first`` at the top, the others in the reader's alphabetical order."""
    names = country_names()
    rest = sorted((code for code in names if code != first), key=lambda code: names[code])
    return [SelectChoice(code, names[code]) for code in [first, *rest]]
