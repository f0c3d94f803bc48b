"""What a question about a movie asks: its plot, director, cast, length, year, …

``aspects("who directed it and how long is it?")`` -> ``["director", "runtime"]``. Read
only from the sentences the rules took for questions about a movie (not requests: "any
movies about time travel?" asks for suggestions). The dialogue answers them from the
corpus (:mod:`crs.dialogue.facts`); nothing here knows which movie is meant.
"""

from __future__ import annotations

import re

from crs.facets import LANGUAGES

#: Aspect -> the words that ask for it, in answer order. "overview" is "tell me more".
_ASPECTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in (
    ("overview", r"\b(?:tell me (?:a (?:little|bit) )?more|more (?:info(?:rmation)?|details)|tell me about|"
                 r"what (?:can|do) you (?:tell me|know)|(?:info(?:rmation)?|details) (?:about|on)|describe)\b"),
    ("plot", r"\b(?:plot|story ?line|storyline|synopsis|premise|summary|what happens|"
             r"what(?:'s| is| was) (?:it|that|this|that one|this one|the (?:\w+ )?(?:one|movie|film)|[^?.!]{1,60}) about)\b"),
    ("director", r"\b(?:who (?:directed|made|shot)|direct(?:or|ed by)|filmmaker)\b"),
    ("writer", r"\b(?:who wrote|writers?|written by|screen ?play|screenwriter)\b"),
    ("cast", r"\b(?:who(?:'s| is| are)? (?:in|starring|stars? in)|who stars|(?:the )?cast|actors?|actress(?:es)?|starring|"
             r"who plays|lead role)\b"),
    ("year", r"\b(?:what year|which year|when (?:was|did|is|does)|released?|came out|come out|how old)\b"),
    ("runtime", r"\b(?:how long|length|runtime|running time|how many (?:minutes|hours)|"
                r"(?:is|was|isn'?t|wasn'?t) (?:it|that|this|that one|this one|the \w+ one) (?:(?:very|too|really|pretty|that|"
                r"super|so|a bit|kind of|kinda) )?(?:long|short|lengthy))\b"),
    ("genre", r"\b(?:genre|what (?:kind|type|sort) of (?:a )?(?:movie|film))\b"),
    ("language", r"\b(?:language|subtitles?|subtitled|dubbed|in (?:" + "|".join(LANGUAGES) + r"))\b"),
    ("studio", r"\b(?:studio|production compan(?:y|ies)|who produced|produced by)\b"),
    ("audience", r"\b(?:(?:ok|okay|good|fine|safe|suitable|appropriate|alright|right) for (?:kids|children|my (?:kids|son|daughter)|"
                 r"the family|a family)|kid[- ]friendly|family[- ]friendly|for the whole family)\b"),
    ("rating", r"\b(?:any good|(?:is|was) (?:it|that|this|that one|this one|the \w+(?: one)?) (?:(?:really|actually|even|very) )?good|worth (?:it|watching|seeing|a (?:watch|look))|"
               r"rated|ratings?|reviews?|imdb|rotten tomatoes|critics?)\b"),
    ("where", r"\b(?:netflix|hulu|amazon(?: prime)?|prime video|disney ?(?:\+|plus)|hbo|apple tv|peacock|paramount ?\+|"
              r"streaming|stream it|where (?:can|could|do|should) (?:i|we) (?:watch|see|stream|rent|buy|find|get)|"
              r"in (?:theaters|theatres|cinemas)|on (?:dvd|blu-?ray))\b"),
))

#: "is it scary?": a tone, read against the movie's genres.
TONES: dict[str, tuple[str, ...]] = {
    "scary": ("horror",), "creepy": ("horror",), "frightening": ("horror",), "suspenseful": ("thriller",),
    "funny": ("comedy",), "hilarious": ("comedy",), "romantic": ("romance",), "sad": ("drama",),
    "violent": ("action", "crime", "war", "horror"), "gory": ("horror",), "animated": ("animation",),
    "a cartoon": ("animation",), "a musical": ("music", "musical"), "a comedy": ("comedy",),
    "a horror": ("horror",), "a thriller": ("thriller",), "a drama": ("drama",), "a romance": ("romance",),
    "a documentary": ("documentary",), "sci-fi": ("science fiction",), "science fiction": ("science fiction",),
}
_TONE = re.compile(r"\b(?:is|was|isn'?t|wasn'?t)\s+(?:it|that|this|that one|this one|the \w+ one|[^?.!,]{1,40}?)\s+"
                   r"(?:(?:very|too|really|pretty|that|super|so|at all)\s+)?(" + "|".join(
                       re.escape(t) for t in sorted(TONES, key=len, reverse=True)) + r")\b", re.IGNORECASE)


#: "Which of these is the shortest?": a question about the whole shown list.
_COMPARE = re.compile(r"\bwhich(?: one)?(?: of (?:these|those|them|the (?:\w+ )?(?:movies|films|ones)))?(?: ones?)?"
                      r"(?: is|'s| was)? (?:the )?(shortest|longest|newest|oldest|most recent|latest|earliest)\b",
                      re.IGNORECASE)
_COMPARE_AS = {"most recent": "newest", "latest": "newest", "earliest": "oldest"}
#: "and the oldest?" right after such an answer.
_BARE_COMPARE = re.compile(r"^\W*(?:and|what about|how about)?\s*(?:the )?(shortest|longest|newest|oldest|most recent|"
                           r"latest|earliest)(?: one)?\W*$", re.IGNORECASE)


def _compare(word: str) -> str:
    """"Latest" -> "compare:newest"."""
    how = word.lower()
    return f"compare:{_COMPARE_AS.get(how, how)}"


def bare_compare(text: str) -> str | None:
    """"and the oldest?" -> "compare:oldest" (only a follow-up reads it so)."""
    m = _BARE_COMPARE.match(text)
    return _compare(m.group(1)) if m else None


def aspects(text: str) -> list[str]:
    """The aspects ``text`` asks about, in a fixed order; a tone ("is it scary?") is
    ``tone:scary``; a question about the whole shown list ("which is the shortest?") is
    ``compare:shortest`` (``shortest``, ``longest``, ``newest`` or ``oldest``) alone."""
    if m := _COMPARE.search(text):
        return [_compare(m.group(1))]
    found = [name for name, pattern in _ASPECTS if pattern.search(text)]
    if "overview" in found and "plot" in found:
        found.remove("plot")  # "tell me about X": the overview holds the plot
    tone = _TONE.search(text)
    if tone and "audience" not in found:
        found.append(f"tone:{tone.group(1).lower()}")
    return found
