"""Who watches, how long, in which language, from which studio: "with my 8 year old",
"something short", "foreign films", "in French", "Pixar movies"."""

from __future__ import annotations

import re

from crs.facets import LANGUAGES, STUDIOS, under

_OWNER = r"(?:my|our|the|his|her|your|their)"
_CHILD = r"(?:kids?|children|child|sons?|daughters?|toddlers?|little ones|grandkids|grandchildren|nephews?|nieces?)"
_KIDS = re.compile(
    rf"\b{_OWNER}\s+(?:\w+\s+)?(?:\d+\s*(?:year|yr)s?[- ]old\s+)?{_CHILD}\b"
    r"|\bkids?'?\s+(?:movies?|films?|flicks?|shows?)\b|\bchildren'?s\s+(?:movies?|films?|cartoons?)\b"
    r"|\b\d{1,2}\s*(?:year|yr)s?[- ]olds?\b", re.IGNORECASE)
_FAMILY = re.compile(r"\b(?:with|as|for)\s+(?:my|our|the|a)?\s*(?:whole\s+)?family\b|\bfamily (?:night|movie night)\b",
                     re.IGNORECASE)
_COUPLE = re.compile(r"\bdate night\b|\bon a date\b|\b(?:with|and)\s+my\s+(?:wife|husband|girlfriend|boyfriend|partner|spouse|"
                     r"fianc[eé]e?)\b", re.IGNORECASE)
_SHORT = re.compile(r"\b(?:something|anything|one|movie|film|a)\s+(?:short|quick)\b|\bshort(?:er)?\s+(?:movies?|films?|ones)\b"
                    r"|\b(?:not|nothing|none) (?:too|very|that|overly|super) long\b|\bnothing long\b|\b(?:under|less than)\s+(?:an?|one|two|1|2|90|100|120)\s*"
                    r"(?:hours?|hrs?|minutes|mins)\b", re.IGNORECASE)
_LONG = re.compile(r"\b(?:something|anything|a)\s+long\b(?!\s+(?:time|ago|while))|\blong(?:er)?\s+(?:movies?|films?|ones)\b",
                   re.IGNORECASE)
_LANG = "|".join((*LANGUAGES, "mandarin", "cantonese"))
_KINDS = (r"movies?|films?|cinema|thrillers?|horrors?|comed(?:y|ies)|dramas?|animation|anime|westerns?|"
          r"romances?|action|noirs?|crime|war films?|musicals?|documentar(?:y|ies)|classics?")
_IN_LANGUAGE = re.compile(rf"\b(not\s+)?in\s+({_LANG})\b|\b({_LANG})[- ](?:language|speaking|(?:{_KINDS})\b)"
                          rf"|\b(?:something|anything|more|some|any)\s+(?:else\s+|good\s+|new\s+|other\s+)?({_LANG})\b"
                          r"(?!\s*(?:food|restaurants?|dish(?:es)?|people|friends?|music|songs?)\b)",  # "something Korean"
                          re.IGNORECASE)
_FOREIGN = re.compile(r"\bforeign(?:[- ]language)?\s+(?:movies?|films?|animation|ones|cinema|stuff)\b|\bwith subtitles\b"
                      r"|\bsubtitled\s+(?:movies?|films?)\b|\binto foreign\b|\bbollywood\b", re.IGNORECASE)
_DISLIKE = re.compile(r"\b(?:not?|don'?t|didn'?t|never|hate|dislike)\b", re.IGNORECASE)


#: Studio names that are nothing else ("Pixar"), and those that are also words or titles
#: ("Hammer", "Laika", "Illumination", "Amblin"): these only before a film word or after "by"/"from".
_STUDIO_PLAIN = re.compile(r"\b(pixar|dreamworks|(?:studio\s+)?ghibli|a24|blumhouse|aardman|lucasfilm|disney)\b",
                           re.IGNORECASE)
_STUDIO_CUED = re.compile(
    r"\b(?:by|from)\s+(hammer|laika|illumination|amblin)\b"
    r"|\b(hammer|laika|illumination|amblin)\s+(?:horror|films?|movies?|productions?|studios?|animation|entertainment|stuff)\b",
    re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:no|not|don'?t|didn'?t|never|hate|dislike|without|except|but not)\W+(?:\w+\W+){0,2}$",
                      re.IGNORECASE)


def studio(text: str) -> tuple[str, tuple[int, int]] | None:
    """A studio wish as a key of :data:`crs.facets.STUDIOS` and where it was said: "Pixar
    movies" -> ("pixar", span); "no Disney stuff" and "hammer time" -> None."""
    for pattern in (_STUDIO_PLAIN, _STUDIO_CUED):
        for match in pattern.finditer(text):
            group = next(g for g in range(1, (pattern.groups or 0) + 1) if match.group(g))
            word = match.group(group).lower().split()[-1]
            if word in STUDIOS and not _NEGATED.search(text[:match.start()]):
                return word, match.span(group)
    return None


_OTHER_PEOPLE = re.compile(
    r"\b(?:by|from|with|starring)\s+(?:someone|somebody|anyone|anybody)\s+else\b"
    r"|\b(?:other|different)\s+(?:directors?|actors?|actresses|filmmakers?)\b"
    r"|\b(?:directors?|actors?|actresses|filmmakers?)\s+(?:who\s+(?:is|are)\s+|that\s+(?:is|are)\s+)?similar\s+to\b"
    r"|\bnot\s+(?:by|from|with)\s+(?:him|her|them)\b", re.IGNORECASE)


def other_people(text: str) -> bool:
    """"something similar by someone else", "other directors", "not by him", "directors similar
    to Tarantino": films like the person's, by others."""
    return bool(_OTHER_PEOPLE.search(text))


def audience(text: str) -> str | None:
    """"kids" for children watching, "family", or "couple" (a date); None if unsaid."""
    if _KIDS.search(text):
        return "kids"
    if _FAMILY.search(text):
        return "family"
    if _COUPLE.search(text):
        return "couple"
    return None


_HOURS = {"a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0}
_LIMIT = re.compile(
    r"\b(?:under|less than|no (?:more|longer) than|at most|shorter than|max(?:imum)?(?: of)?|within|tops)\s+"
    r"(?:(\d{2,3})\s*(?:minutes?|mins?)\b|(an?|one|two|three|\d(?:\.\d)?)\s*(and a half\s+)?(?:hours?|hrs?)\b"
    r"(\s+and a half)?)"
    r"|\b(\d{2,3})\s*(?:minutes?|mins?)\s+(?:or less|or shorter|max(?:imum)?|tops)\b", re.IGNORECASE)


def _limit_minutes(text: str) -> int | None:
    """"under 90 minutes" -> 90, "less than two hours" -> 120, "an hour and a half or
    less" is not read; None without a limit in minutes or hours (or an odd one)."""
    match = _LIMIT.search(text)
    if not match:
        return None
    if match.group(1) or match.group(5):
        minutes = int(match.group(1) or match.group(5))
    else:
        word = match.group(2).lower()
        hours = _HOURS.get(word) or float(word)
        minutes = round(60 * (hours + (0.5 if match.group(3) or match.group(4) else 0.0)))
    return minutes if 30 <= minutes <= 240 else None


def runtime(text: str) -> str | None:
    """A length wish as a facet word of :mod:`crs.facets`: "under 90 min" for a
    stated limit ("under 90 minutes", "less than two hours"), else "short" or "long"
    ("in a long time" is not one)."""
    if (minutes := _limit_minutes(text)) is not None:
        return under(minutes)
    if _SHORT.search(text):
        return "short"
    if _LONG.search(text):
        return "long"
    return None


def language(text: str) -> str | None:
    """A language wish: "in French" -> "french"; "foreign films" -> "foreign".

    "not in English" counts as wanting English only when the message dislikes that
    ("I don't like the ones that are not in English"); on its own it says nothing sure.
    """
    if m := _IN_LANGUAGE.search(text):
        if m.group(1):
            return m.group(2).lower() if _DISLIKE.search(text[:m.start()]) else None
        word = (m.group(2) or m.group(3) or m.group(4)).lower()
        return "chinese" if word in ("mandarin", "cantonese") else word
    if m := _FOREIGN.search(text):
        return "hindi" if m.group().lower() == "bollywood" else "foreign"
    return None
