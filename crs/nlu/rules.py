"""The rule-based NLU: intents, movies, genres, people, moods and years, with negation.

A message is split into clauses ("I loved Heat and Collateral, nothing too violent
though" -> two clauses); a negation cue shortly before a slot in the same clause makes
it a dislike, a "seen" cue makes a movie seen. Movie titles and names are masked before
genres and moods are read, so "The Dark Knight" does not mean the mood "dark".
"""

from __future__ import annotations

import re

from rapidfuzz.distance import OSA

from crs.catalog.linker import Mention, TitleLinker
from crs.catalog.normalize import norm_words
from crs.nlu.lexicon import Lexicon, load_lexicon
from crs.nlu.people import PeopleIndex
from crs.nlu.types import Intent, NLUResult
from crs.nlu.years import bare_years, parse_years
from crs.preferences import Polarity, PreferenceItem, Slot

#: "but" splits clauses except in "anything but X" / "all but X", where it negates X.
_CLAUSE_SPLIT = re.compile(r"[.;!?\n]+|,|(?<!anything )(?<!everything )(?<!all )\bbut\b|\bthough\b|\bhowever\b|"
                           r"\bwhereas\b|\balthough\b", re.IGNORECASE)
_NEG = re.compile(
    r"\b(no|not|nothing|never|none|nor|neither|without|except|avoid|hate|hates|hated|dislike|dislikes|disliked|"
    r"less|rather not|tired of|sick of|can't stand|cant stand|skip|nope|other than|(?:anything|everything|all) but)\b|n't\b|"
    r"\bdont\b|\bdoesnt\b|\bdidnt\b|\bisnt\b|\bwont\b"
)
_NOT_SEEN = re.compile(r"(haven'?t|have not|never|not yet|didn'?t|did not)\s+(?:\w+\s+){0,2}?(seen|watched|saw|see|watch)")
_SEEN = re.compile(r"\b(seen|watched|saw|already)\b")
_GREET = re.compile(r"^\W*(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening)|greetings|yo)\b", re.IGNORECASE)
_BYE = re.compile(r"\b(bye|goodbye|good bye|see you|that'?s all|thats all|i'?m done|gotta go)\b", re.IGNORECASE)
_RESET = re.compile(r"\b(start over|reset|new conversation|forget (everything|all|what i said)|from scratch)\b", re.IGNORECASE)
_MORE = re.compile(r"\b(more|others?|another|anything else|something else|else\?|next|different ones?|other ones?|other options)\b", re.IGNORECASE)
_ASK = re.compile(
    r"\b(recommend|recommendation|recommendations|suggest|suggestion|suggestions|what should i watch|looking for|"
    r"in the mood for|i want|i'?d like|i would like|any (good )?(films?|movies?)|something|anything|similar|like that|ideas?|show me|"
    r"give me|what about|how about|can you find)\b|\?\s*$", re.IGNORECASE)
_CHANGE = re.compile(r"\b(instead|change(?:d)? my mind|on second thought|scratch that|rather than|never ?mind|"
                     r"let'?s do|switch to|make it)\b", re.IGNORECASE)
_WHY = re.compile(r"\bwhy\b", re.IGNORECASE)
_ACCEPT = re.compile(r"\b(sounds? (good|great)|i'?ll (watch|check|try)|will (watch|check)|perfect|great,? thanks|thank(s| you)|"
                     r"awesome|love (it|that)|that'?s (great|perfect)|i'?ll take)\b", re.IGNORECASE)
_REJECT = re.compile(r"\b(not (interested|for me|really)|no thanks|none of (these|those|them)|don'?t like (those|these|them|any)|"
                     r"not (those|these|that one)|something different)\b", re.IGNORECASE)
_ALL_REF = re.compile(r"\b(all of (them|those|these)|those|these|them|all|both)\b", re.IGNORECASE)
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
             "fifth": 4, "5th": 4, "last": -2}
_ORD_RE = re.compile(r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\b(?:\s+one)?|(?:#|number\s+)(\d)\b",
                     re.IGNORECASE)
_WINDOW = 5
_NAME_WORD = re.compile(r"[^\W_]+(?:['\u2019.-][^\W_]+)*")


class RuleNLU:
    """Deterministic understanding of one user message."""

    def __init__(self, linker: TitleLinker, people: PeopleIndex, reference_year: int,
                 lexicon: Lexicon | None = None) -> None:
        self.linker = linker
        self.people = people
        self.reference_year = reference_year
        self.lexicon = lexicon or load_lexicon()
        self._genre_phrases = sorted(self.lexicon.genres, key=lambda p: -len(p.split()))
        self._mood_phrases = sorted(self.lexicon.moods, key=lambda p: -len(p.split()))
        self._typo_targets = sorted(p for p in self.lexicon.genres if len(p) >= 6 and p.isalpha())

    def parse(self, text: str, turn: int = 0) -> NLUResult:
        """Understand ``text``; never raises on odd input."""
        result = NLUResult()
        mentions = [m for m in self.linker.find(text) if not self._inside_name(text, m)]
        for clause_start, clause_end in _clauses(text):
            self._parse_clause(text, clause_start, clause_end, mentions, turn, result)
        years = parse_years(text, self.reference_year)
        result.year_min, result.year_max = years.year_min, years.year_max
        result.years_mentioned = bare_years(text)
        result.mentioned = [m.chosen.id for m in mentions if m.chosen is not None]
        result.refers_to_shown = _references(text)
        result.intents = self._intents(text, result)
        return result

    def _inside_name(self, text: str, mention: Mention) -> bool:
        """True when a title is only part of a person's name ("Paul" in "Paul Verhoeven",
        "Hitchcock" in "Alfred Hitchcock"): then the person was meant, not the movie."""
        if mention.text.startswith("@") or mention.year is not None:
            return False
        words = list(_NAME_WORD.finditer(text))
        inside = [k for k, w in enumerate(words) if w.start() < mention.end and mention.start < w.end()]
        if not inside:
            return False
        a, b = inside[0], inside[-1]
        for lo in range(max(0, a - 2), a + 1):
            for hi in range(b, min(len(words), b + 3)):
                if (lo, hi) != (a, b) and norm_words(" ".join(w.group() for w in words[lo:hi + 1])) in self.people.names:
                    return True
        return False

    # ------------------------------------------------------------------ slots
    def _parse_clause(self, text: str, start: int, end: int, mentions: list[Mention], turn: int,
                      result: NLUResult) -> None:
        clause = text[start:end]
        lower = clause.lower()
        masked = clause
        for m in mentions:
            if start <= m.start < end:
                rel = m.start - start
                prefix = lower[:rel]
                negated = _negated(prefix)
                not_seen = bool(_NOT_SEEN.search(prefix))
                seen = bool(_SEEN.search(prefix[-60:])) and not not_seen
                if re.search(r"\bwhy\b", prefix):
                    polarity = None  # "why Heat?" points at a shown movie; it states no taste
                elif m.chosen is not None or m.ambiguous:
                    if not_seen:
                        polarity = Polarity.DISLIKE if negated and not _NOT_SEEN.search(prefix[-40:]) else None
                    elif seen:
                        polarity = Polarity.SEEN
                    else:
                        polarity = Polarity.DISLIKE if negated else Polarity.LIKE
                    if polarity is not None and m.ambiguous:
                        result.ambiguous.append((m, polarity))
                    elif polarity is not None:
                        result.items.append(PreferenceItem(slot=Slot.MOVIE, value=m.chosen.id, polarity=polarity,
                                                           label=m.chosen.display, turn=turn))
                        if polarity == Polarity.LIKE and _SEEN.search(prefix[-60:]):
                            result.items.append(PreferenceItem(slot=Slot.MOVIE, value=m.chosen.id, polarity=Polarity.SEEN,
                                                               label=m.chosen.display, turn=turn))
                a, b = m.start - start, min(m.end - start, len(masked))
                masked = masked[:a] + " " * (b - a) + masked[b:]
        words = norm_words(masked).split()
        for name, i, j in self.people.find(masked):
            polarity = Polarity.DISLIKE if _negated(" ".join(words[max(0, i - _WINDOW):i])) else Polarity.LIKE
            result.items.append(PreferenceItem(slot=Slot.PERSON, value=name, polarity=polarity, label=name, turn=turn))
            words[i:j] = ["_"] * (j - i)
        self._phrases(words, turn, result)

    def _phrases(self, words: list[str], turn: int, result: NLUResult) -> None:
        used: set[int] = set()
        for table, slot in ((self._genre_phrases, Slot.GENRE), (self._mood_phrases, Slot.MOOD)):
            for phrase in table:
                pw = phrase.replace("-", " ").split()
                for i in range(len(words) - len(pw) + 1):
                    if words[i:i + len(pw)] != pw or any(k in used for k in range(i, i + len(pw))):
                        continue
                    used.update(range(i, i + len(pw)))
                    negated = _negated(" ".join(words[max(0, i - _WINDOW):i]))
                    polarity = Polarity.DISLIKE if negated else Polarity.LIKE
                    values = self.lexicon.genres[phrase] if slot == Slot.GENRE else (self.lexicon.moods[phrase],)
                    for value in values:
                        result.items.append(PreferenceItem(slot=slot, value=value, polarity=polarity, label=value, turn=turn))
        for i, word in enumerate(words):
            phrase = None if i in used else self._genre_typo(word)
            if phrase is not None:
                polarity = Polarity.DISLIKE if _negated(" ".join(words[max(0, i - _WINDOW):i])) else Polarity.LIKE
                for value in self.lexicon.genres[phrase]:
                    result.items.append(PreferenceItem(slot=Slot.GENRE, value=value, polarity=polarity, label=value, turn=turn))

    def _genre_typo(self, word: str) -> str | None:
        """The genre a misspelt word means ("horor", "comdy", "thriler"): one edit away from
        a genre word of six letters or more, and not itself a word people often write."""
        if len(word) < 5 or not word.isalpha() or word in self.linker.common:
            return None
        hits = [p for p in self._typo_targets if OSA.distance(word, p, score_cutoff=1) <= 1]
        return hits[0] if len(hits) == 1 else None

    # ------------------------------------------------------------------ intents
    def _intents(self, text: str, result: NLUResult) -> list[Intent]:
        intents: list[Intent] = []
        stripped = text.strip()
        if _RESET.search(stripped):
            intents.append(Intent.RESET)
        if _CHANGE.search(stripped):
            intents.append(Intent.CHANGE_MIND)
        if _WHY.search(stripped):
            intents.append(Intent.ASK_WHY)
        lower = stripped.lower()
        seen_feedback = (re.search(r"\b(seen|watched|saw)\b", lower) and not _NOT_SEEN.search(lower)
                         and (result.refers_to_shown or not any(i.slot == Slot.MOVIE for i in result.items)))
        if seen_feedback:
            intents.append(Intent.SEEN)
        if _REJECT.search(stripped):
            intents.append(Intent.REJECT)
        if _ACCEPT.search(stripped) and not result.items:
            intents.append(Intent.ACCEPT)
        if result.items or result.year_min is not None or result.year_max is not None:
            intents.append(Intent.PREFERENCE)
        if _MORE.search(stripped) and not result.items:
            intents.append(Intent.MORE)
        if _ASK.search(stripped):
            intents.append(Intent.ASK_REC)
        if _GREET.search(stripped):
            intents.append(Intent.GREET)
        if _BYE.search(stripped):
            intents.append(Intent.GOODBYE)
        if not intents and stripped:
            intents.append(Intent.CHITCHAT)
        return list(dict.fromkeys(intents))


def _clauses(text: str) -> list[tuple[int, int]]:
    spans, last = [], 0
    for m in _CLAUSE_SPLIT.finditer(text):
        spans.append((last, m.start()))
        last = m.end()
    spans.append((last, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _negated(prefix: str) -> bool:
    """A negation cue among the last few words before a slot."""
    tail = " ".join(prefix.lower().replace("\u2019", "'").split()[-_WINDOW:])
    return bool(_NEG.search(tail))


def _references(text: str) -> list[int]:
    refs = []
    for m in _ORD_RE.finditer(text):
        refs.append(_ORDINALS[m.group(1).lower()] if m.group(1) else int(m.group(2)) - 1)
    if not refs and _ALL_REF.search(text):
        refs.append(-1)
    return refs
