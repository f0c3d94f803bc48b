"""Title normalisation shared by the corpus builder, the linker and the evaluation.

The rule (from the data README): ASCII fold, lower case, a trailing ", The"/", A"/", An"
moved to the front, punctuation dropped; then match on title + year (±1), or on the
title alone when no year is given.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_YEAR_RE = re.compile(r"^(.*?)\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
_ARTICLE_RE = re.compile(r"^(.*), (the|a|an)$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def ascii_fold(text: str) -> str:
    """Strip accents: "Amélie" -> "Amelie"."""
    return unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()


def split_title_year(name: str) -> tuple[str, int | None]:
    """"Heat (1995)" -> ("Heat", 1995); "Heat" -> ("Heat", None). Double spaces collapse."""
    name = re.sub(r"\s+", " ", (name or "").strip())
    m = _YEAR_RE.match(name)
    if m:
        return m.group(1).strip(), int(m.group(2))
    return name, None


def fix_article(title: str) -> str:
    """"Matrix, The" -> "The Matrix" (display form)."""
    m = re.match(r"^(.*), (The|A|An|the|a|an)(\s*\(.*\))?$", title.strip())
    if m:
        return f"{m.group(2)} {m.group(1)}{m.group(3) or ''}"
    return title.strip()


@lru_cache(maxsize=262_144)
def norm_title(title: str) -> str:
    """The matching key of a title (no year): "The Matrix" -> "thematrix"."""
    t = ascii_fold(title).lower().strip()
    m = _ARTICLE_RE.match(t)
    if m:
        t = f"{m.group(2)} {m.group(1)}"
    t = t.replace("&", " and ")
    return _NON_ALNUM.sub("", t)


def norm_words(text: str) -> str:
    """Lower-case, ASCII, single-spaced words: used for fuzzy matching in free text."""
    t = ascii_fold(text).lower().replace("&", " and ")
    t = re.sub(r"[^a-z0-9']+", " ", t).replace("'", "")
    return re.sub(r"\s+", " ", t).strip()
