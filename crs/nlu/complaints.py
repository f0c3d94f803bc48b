"""Complaints about a film: "Jurassic Park was too scary for my son", "Interstellar was too slow
and boring", "the first one is too violent", "He's seen Jaws, way too scary".

A "too" before a word of what a film can be is a complaint, never a wish for it: the title it
follows is disliked (not liked, as a bare title is), the mood or genre it names is unwanted, and
said of a shown film ("the first one is", "that looks", or the message opens with it) it rejects
that film. "Nothing too violent" and "not too long" stay wishes (the rule reader's negation).
"""

from __future__ import annotations

import re

#: What a film can be too much of. Praise that "too" can carry ("too good", "too funny") is left out.
_TOO_WHAT = (r"(?:scary|violent|gory|bloody|brutal|graphic|disturbing|creepy|frightening|terrifying|gruesome|dark|"
             r"depressing|sad|bleak|grim|heavy|long|slow|boring|dull|predictable|cheesy|corny|sappy|mushy|silly|"
             r"stupid|childish|weird|confusing|complicated|intense|loud|mature|adult|raunchy|crude|sexual|old|"
             r"(?:much|many)(?=\s+(?!to\b|for\b|than\b|of\b|and\b|but\b|as\b)[a-z])|over the top)")
#: Words that may stand between "too" and its word: "too damn scary", "too much violence".
_FILLERS = frozenset({"damn", "darn", "freaking", "bloody", "much", "very"})
COMPLAINT = re.compile(r"\b(?:too|overly)\s+(?:(?:damn|darn|freaking)\s+)?" + _TOO_WHAT + r"\b", re.IGNORECASE)
#: A plain bad verdict: "Interstellar was boring", "the second one looks dull" ("wasn't bad", "was not bad" are none).
_VERDICT_SRC = (r"(?:\b(?:was|is|were|are|looks?|looked|seems?|seemed|sounds?|sounded|felt|feels?)\s+|'s\s+)"
                r"(?:(?:so|really|pretty|kinda|kind of|a bit|just|super|very|quite|rather|way too|too)\s+)?"
                r"(?:boring|dull|bad(?!\s*-?\s*ass)|terrible|awful|lame|overrated|stupid|meh|forgettable|"
                r"disappointing|horrible|a (?:letdown|bore|snooze))\b")
_VERDICT = re.compile(_VERDICT_SRC, re.IGNORECASE)
_VERDICT_NEXT = re.compile(r"\s*" + _VERDICT_SRC, re.IGNORECASE)  # right after the words for a shown film
#: Before "too": the user asks for less of it ("nothing too violent", "not too long"), no complaint.
_WISH_BEFORE = re.compile(r"\b(?:no|not|nothing|never|none|without|less|anything|something|isn'?t|wasn'?t|aren'?t|"
                          r"weren'?t|shouldn'?t|won'?t)\s+(?:(?:that|so|overly|really|a bit|just)\s+)?$", re.IGNORECASE)
#: A complaint said of shown films: "the first one is too violent", "that looks too scary", "those are
#: way too long", or a message that opens with it ("too scary for my kids").
_TOO = r"(?:(?:way|much|far|a bit|a little|kind of|kinda|just|probably|maybe)\s+)?(?:too|overly)\s"
#: Words that point at shown films ("it", "those", "the second"; also read by the rules' rejections).
SHOWN = r"(?:it|that|this|those|these|they|one|ones|first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)"
_OF_SHOWN = re.compile(r"(?:^\W*|\b" + SHOWN + r"\W+(?:(?:is|are|was|were|'?s|'?re|looks?|seems?|sounds?)\s+)?)" + _TOO,
                       re.IGNORECASE)
_OPENER = re.compile(r"^\W*" + _TOO, re.IGNORECASE)
_SUBJECT = re.compile(r"\b" + SHOWN + r"(?:\s+(?:one|movie|film))?(?=\s|'s)", re.IGNORECASE)
#: A taste stated before a title keeps it liked ("I loved Jurassic Park but it was too scary for him").
_PRAISE_BEFORE = re.compile(r"\b(?:lov|lik|enjoy|ador|favou?rit)\w*", re.IGNORECASE)


def complains(text: str) -> bool:
    """``text`` holds a complaint that is not a wish ("too scary", not "nothing too scary"), or a
    bad verdict ("was boring")."""
    return (any(not _WISH_BEFORE.search(text[:m.start()]) for m in COMPLAINT.finditer(text))
            or bool(_VERDICT.search(text)))


def of_shown(text: str) -> bool:
    """The complaint is about a shown film ("the second one is too long", "too scary for him",
    "the second one was boring")."""
    return (any(complains(text[m.start():]) for m in _OF_SHOWN.finditer(text))
            or any(_VERDICT_NEXT.match(text, m.end()) for m in _SUBJECT.finditer(text)))


def opens_with(text: str) -> bool:
    """The message opens with its complaint ("too weird for me", "way too long"): about the film
    just talked of."""
    return bool(_OPENER.match(text)) and complains(text)


def dislikes_title(before: str, after: str) -> bool:
    """A title named with no praise ``before`` it (in its clause) and a complaint ``after`` it
    (up to the sentence's end or the next title) is disliked: "Jaws, too scary"."""
    return complains(after) and not _PRAISE_BEFORE.search(before)


def too_before(words: list[str], i: int) -> bool:
    """Word ``i`` follows "too" ("too violent", "too damn scary", "too much violence")."""
    j = i - 1
    while j >= 0 and words[j] in _FILLERS and i - j <= 2:
        j -= 1
    return j >= 0 and words[j] in {"too", "overly"} and i - j <= 3
