"""Year and decade constraints: "nothing before 1980", "from the 90s", "recent"."""

from __future__ import annotations

import re
from dataclasses import dataclass

_Y = r"((?:19|20)\d{2})"
_DECADE_WORDS = {"fifties": 1950, "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990}
_DECADE = r"(?:the\s+)?(?:((?:19|20)?\d0)'?s|(fifties|sixties|seventies|eighties|nineties))\b"


#: "recent", "newer", "what's new", "in theaters"; not "the newer one" (picking a version).
_RECENT = re.compile(r"\b(recent|recently released|latest|modern|new releases?|newer(?! (?:one|version|remake))|"
                     r"what'?s new|whats new|(?:still |now )?in theaters?|in the theaters?)\b")
#: "black and white", "b&w": older than "old" (colour was the norm from the mid-1960s).
_BLACK_AND_WHITE = re.compile(r"\b(?:black[ -](?:and|&|n)[ -]white|b ?& ?w)\b")
#: The last year of "classic movies" / "older stuff" said with nothing to compare it to.
CLASSIC_UNTIL = 1979
#: "classic movies", "classics", "older stuff", "old musicals", "classic horror"; not "a classic" / "is a
#: classic", which describe a movie.
_OLD_KINDS = (r"movies?|films?|ones|flicks?|stuff|musicals?|westerns?|comed(?:y|ies)|horror|dramas?|thrillers?|"
              r"romances?|cartoons?|noirs?|sci-?fi|mysteries|war (?:movies?|films?)|monster (?:movies?|films?)")
_OLD = re.compile(r"(?<!\ba )(?<!\bthe )(?<!\bgreat )(?<!\breal )\b(?:classic (?:" + _OLD_KINDS + r")|"
                  r"(?:something|anything|some|more) classic|classics|vintage|black and white|"
                  r"old(?:er)? (?:" + _OLD_KINDS + r"))\b")


#: "Not too old", "nothing old", "not that old": from this many years before the reference year.
NOT_OLD_YEARS = 30
_NOT_OLD = re.compile(r"(?<!i'm )(?<!im )(?<!i am )(?<!we're )(?<!he's )(?<!she's )\b(?:not|nothing|none|no)\s+(?:too\s+|that\s+|very\s+|super\s+|so\s+|overly\s+)?old(?:er)?\b"
                      r"(?!\s+(?:friend|man|woman|lady|guy|days))")


@dataclass(frozen=True)
class YearConstraint:
    year_min: int | None = None
    year_max: int | None = None


def _decade_start(num: str | None, word: str | None) -> int:
    if word:
        return _DECADE_WORDS[word]
    value = int(num)
    if value < 100:
        value += 1900 if value >= 20 else 2000
    return value


def _decade_spans(t: str) -> list[tuple[int, int]]:
    """Year spans of the decades a message asks for: "80s comedies", "from the nineties",
    "80s or 90s"; "early 80s" 1980-1984, "mid 90s" 1993-1997, "late 90s" 1995-1999.

    Ages ("in his 60s") and negated decades ("nothing from the 80s", which a year range
    cannot express) are skipped.
    """
    return [span for span, negated in _decade_mentions(t) if not negated]


def _decade_mentions(t: str) -> list[tuple[tuple[int, int], bool]]:
    """Every decade named, with whether a negation covers it ("nothing from the 70s or 80s":
    both negated)."""
    out = []
    negated_list = False
    last_end = -1
    for m in re.finditer(rf"(?<!\w)(?:the\s+)?(early\s+|late\s+|mid(?:-|\s+))?['\u2019]?{_DECADE}", t):
        before = t[max(0, m.start() - 30):m.start()]
        if re.search(r"\b(?:his|her|their|my|your|our|in (?:his|her|their))\s*$", before):
            continue
        negated = bool(re.search(r"\b(?:no|not|nothing|without|except|hate|avoid)\b(?:\W+\w+){0,2}\W*$", before))
        listed = last_end >= 0 and re.fullmatch(r"\s*(?:,|or|and|nor|,\s*or|,\s*and)\s*(?:the\s+)?", t[last_end:m.start()])
        negated = negated or bool(listed and negated_list)
        negated_list, last_end = negated, m.end()
        if m.group(2) in {"00", "10", "20"} and not m.group(0).startswith("the"):
            continue  # "top 10s", "20s" (an age) unless written "the 10s"
        start = _decade_start(m.group(2), m.group(3))
        part = (m.group(1) or "").strip(" -")
        out.append(({"early": (start, start + 4), "mid": (start + 3, start + 7), "late": (start + 5, start + 9)}
                    .get(part, (start, start + 9)), negated))
    return out


#: A two-digit year after a bound word: "nothing before 95", "after '05".
_SHORT_YEAR = re.compile(r"\b(before|after|since|older than|newer than|earlier than|later than|prior to|from)\s+['\u2019]?(\d{2})\b(?!s|['\u2019]s)")
#: "2010 or later", "2000+", "2010 and up"; "1990 or earlier".
_OPEN_AFTER = re.compile(rf"\b{_Y}\s*(?:\+|or (?:later|newer|after)|and (?:later|newer|up|after|on(?:wards?)?)|onwards?|on(?:wards?)? only)")
_OPEN_BEFORE = re.compile(rf"\b{_Y}\s*(?:or (?:earlier|older|before)|and (?:earlier|older|before))\b")
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
                 "few": 3, "couple of": 2, "couple": 2, "fifteen": 15, "twenty": 20}
#: "from the last 5 years", "in the past decade".
_LAST_YEARS = re.compile(r"\b(?:last|past)\s+(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|few|"
                         r"couple(?: of)?)\s+(years|decades?)\b|\b(?:last|past)\s+(decade)\b")


def _full_year(two: str) -> int:
    value = int(two)
    return value + (1900 if value >= 30 else 2000)


def parse_years(text: str, reference_year: int) -> YearConstraint:
    """Read year bounds from one message (lower-cased). Bare years ("the 1979 one") are not bounds."""
    t = _SHORT_YEAR.sub(lambda m: f"{m.group(1)} {_full_year(m.group(2))}", text.lower())
    lo: int | None = None
    hi: int | None = None
    m = _LAST_YEARS.search(t)
    if m and not re.search(r"\b(?:no|not|nothing|without|except)\b(?:\W+\w+){0,3}\W*$", t[:m.start()]):
        amount = m.group(1)
        n = 1 if m.group(3) else (int(amount) if amount.isdigit() else _NUMBER_WORDS.get(amount, 3))
        span = n * (10 if (m.group(2) or m.group(3) or "").startswith("decade") else 1)
        return YearConstraint(reference_year - span + 1, None)
    if m := _OPEN_AFTER.search(t):
        return YearConstraint(int(m.group(1)), None)
    if m := _OPEN_BEFORE.search(t):
        return YearConstraint(None, int(m.group(1)))
    neg = r"(?:nothing|no(?:thing)?|not|nothing\s+made|no\s+movies?|no\s+films?|don'?t\s+want\s+anything)"
    if m := re.search(rf"between\s+{_Y}\s+and\s+{_Y}", t) or re.search(rf"\b{_Y}\s*(?:-|to|–)\s*{_Y}\b", t):
        a, b = sorted((int(m.group(1)), int(m.group(2))))
        return YearConstraint(a, b)
    if m := re.search(rf"{neg}\s+(?:\w+\s+){{0,3}}?(?:before|older than|earlier than|prior to)\s+{_Y}", t):
        lo = int(m.group(1))
    elif m := re.search(rf"{neg}\s+(?:\w+\s+){{0,3}}?(?:before|older than|earlier than|prior to)\s+{_DECADE}", t):
        lo = _decade_start(m.group(1), m.group(2))
    elif m := re.search(rf"(?:after|since|newer than|later than|from)\s+{_Y}(?:\s+on(?:wards?)?)?", t):
        lo = int(m.group(1)) + (1 if "after" in m.group(0) or "newer" in m.group(0) or "later" in m.group(0) else 0)
    if m := re.search(rf"{neg}\s+(?:\w+\s+){{0,3}}?(?:after|newer than|later than|since)\s+{_Y}", t):
        hi = int(m.group(1))
        if lo is not None and lo > hi:
            lo = None
    elif m := re.search(rf"(?<!nothing )(?<!not )(?:before|older than|earlier than|prior to)\s+{_Y}", t):
        if lo is None:
            hi = int(m.group(1)) - 1
    if lo is None and hi is None:
        if spans := _decade_spans(t):
            return YearConstraint(min(lo for lo, _ in spans), max(hi for _, hi in spans))
        negated = [span for span, neg in _decade_mentions(t) if neg]
        if negated and max(hi for _, hi in negated) < reference_year - 10:
            # "nothing from the 70s or 80s": newer than those (said back as "from 1990 on")
            return YearConstraint(max(hi for _, hi in negated) + 1, None)
        if _NOT_OLD.search(t):  # "not too old please", "nothing old": the last 30 years
            return YearConstraint(reference_year - NOT_OLD_YEARS, None)
        if _RECENT.search(t):
            return YearConstraint(reference_year - 8, None)
        if _BLACK_AND_WHITE.search(t):  # colour was the norm from the mid-1960s
            return YearConstraint(None, 1965)
        if _OLD.search(t):
            return YearConstraint(None, CLASSIC_UNTIL)
    return YearConstraint(lo, hi)


def bare_years(text: str) -> list[int]:
    """Every four-digit year in the text (for answering "which one?")."""
    return [int(y) for y in re.findall(rf"\b{_Y}\b", text)]
