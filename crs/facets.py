"""Wishes about a film's length, original language and studio: "something short", "under 90
minutes", "a long epic", "French films", "foreign movies", "Pixar movies", "A24 horror".

The NLU hears them (:mod:`crs.nlu.attributes`); the dialogue keeps each one as a mood-slot
preference whose value is a facet word of this module ("short", "under 90 min", "french",
"foreign", "pixar"), so it is stored, shown and removed like any mood. The retriever scores them
from the corpus's TMDB runtime, original language and production companies
(:mod:`crs.recommender.facet_rows`): a film known to fit
rises, a film known not to fit sinks, and a film whose length or language the corpus does
not know stays where its other signals put it (about a third of the ReDial films).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


#: "Something short": at most this many minutes; "something long": at least this many.
SHORT_MAX = 100
LONG_MIN = 140
#: The facet word for "any language but English" ("foreign films", "with subtitles").
FOREIGN = "foreign"
#: Language words of the NLU -> ISO 639-1 codes of the corpus (TMDB's original language).
LANGUAGES = {
    "english": "en", "spanish": "es", "french": "fr", "german": "de", "italian": "it", "japanese": "ja",
    "korean": "ko", "chinese": "zh", "hindi": "hi", "russian": "ru", "swedish": "sv", "danish": "da",
    "norwegian": "no", "portuguese": "pt", "dutch": "nl", "turkish": "tr", "arabic": "ar", "polish": "pl",
    "persian": "fa", "thai": "th",
}
#: Studio words of the NLU -> (how it is shown, the TMDB production-company names it covers,
#: as lower-case name prefixes). "Marvel" is not here: it is a keyword topic (lexicon.toml).
STUDIOS = {
    "pixar": ("Pixar", ("pixar",)),
    "disney": ("Disney", ("walt disney", "disney")),
    "dreamworks": ("DreamWorks", ("dreamworks",)),
    "ghibli": ("Studio Ghibli", ("studio ghibli",)),
    "a24": ("A24", ("a24",)),
    "blumhouse": ("Blumhouse", ("blumhouse",)),
    "illumination": ("Illumination", ("illumination entertainment",)),
    "aardman": ("Aardman", ("aardman",)),
    "laika": ("Laika", ("laika",)),
    "lucasfilm": ("Lucasfilm", ("lucasfilm",)),
    "amblin": ("Amblin", ("amblin",)),
    "hammer": ("Hammer", ("hammer film",)),
}
_UNDER = re.compile(r"^under (\d{1,3}) min$")


@dataclass(frozen=True)
class Facet:
    """One parsed wish. ``kind`` is "runtime" (``low``/``high`` minutes, either may be
    None), "language" (``code``; None means any language but English) or "studio" (``code``:
    a key of :data:`STUDIOS`)."""

    kind: str
    low: int | None = None
    high: int | None = None
    code: str | None = None

    def fits_runtime(self, minutes):
        """A known runtime inside the wished bounds (one number, or a numpy array of them:
        the same test serves the reason of one film and a whole candidate list)."""
        above = minutes >= self.low if self.low is not None else True
        below = minutes <= self.high if self.high is not None else True
        return above & below

    def fits_language(self, code):
        """A known original language that is the wished one (any but English for "foreign");
        one code or a numpy array of them."""
        return code == self.code if self.code else code != "en"

    def fits_companies(self, companies: Iterable[str]) -> bool:
        """One of the production companies is the wished studio's."""
        prefixes = STUDIOS[self.code][1] if self.kind == "studio" and self.code in STUDIOS else ()
        return any(c.lower().startswith(prefixes) for c in companies) if prefixes else False


def under(minutes: int) -> str:
    """The facet word for "at most ``minutes`` minutes" ("under 90 min")."""
    return f"under {int(minutes)} min"


def parse(value: str) -> Facet | None:
    """The facet a preference value names, or None when it is an ordinary mood."""
    value = value.strip().lower()
    if value == "short":
        return Facet("runtime", high=SHORT_MAX)
    if value == "long":
        return Facet("runtime", low=LONG_MIN)
    if match := _UNDER.match(value):
        return Facet("runtime", high=int(match.group(1)))
    if value == FOREIGN:
        return Facet("language")
    if value in LANGUAGES:
        return Facet("language", code=LANGUAGES[value])
    if value in STUDIOS:
        return Facet("studio", code=value)
    return None


def label(value: str) -> str:
    """How a facet word is shown: "short (up to 100 min)", "French", "foreign-language"."""
    facet = parse(value)
    if facet is None:
        return value
    if value.strip().lower() == "short":
        return f"short (up to {SHORT_MAX} min)"
    if value.strip().lower() == "long":
        return f"long ({LONG_MIN} min or more)"
    if facet.kind == "runtime":
        return value
    if facet.kind == "studio":
        return STUDIOS[facet.code][0]
    return "foreign-language" if facet.code is None else value.strip().capitalize()


_LANGUAGE_NAMES = {code: name.capitalize() for name, code in LANGUAGES.items()}


def language_name(code: str) -> str:
    """"fr" -> "French" (the code itself when it has no name here)."""
    return _LANGUAGE_NAMES.get(code, code)


def is_facet(value: str) -> bool:
    return parse(value) is not None


def same_kind(first: str, second: str) -> bool:
    """Two facet words about the same thing ("short" and "long": a later one replaces an
    earlier one)."""
    a, b = parse(first), parse(second)
    return a is not None and b is not None and a.kind == b.kind


def facets_of(values: Iterable[str]) -> list[Facet]:
    return [f for v in values if (f := parse(v)) is not None]
