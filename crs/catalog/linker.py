"""Find movie mentions in free text and link them to corpus movies.

Handles ReDial's ``@12345`` tokens, "Title (Year)", plain titles in any case, and typos
after cue words ("loved the matrx"). Titles made of everyday words ("Up", "Her", "It")
only count when written like a title (capitalised, quoted or with a year). A title that
several corpus movies share is resolved by a year next to it, else by a clear popularity
lead; otherwise the mention is *ambiguous* and carries its candidates, so the dialogue
can ask which one was meant instead of guessing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from crs.catalog.models import Movie, MovieIndex
from crs.catalog.normalize import ascii_fold, norm_title

_TOKEN_RE = re.compile(r"[A-Za-z0-9\u00C0-\u024F]+(?:['\u2019][A-Za-z]+)?|&")
_AT_ID_RE = re.compile(r"@(\d+)")
_YEAR_AFTER_RE = re.compile(r"^\s*[,(\[]?\s*(?:from\s+|in\s+)?((?:19|20)\d{2})\b")
_CUE_RE = re.compile(
    r"\b(?:loved|love|liked|like|likes|enjoyed|enjoy|seen|saw|watched|watch|adore|adored|hated|hate|"
    r"disliked|dislike|similar to|such as|than|(?:what|how) about)\s+(.+?)(?=[.;!?]|\bbut\b|$)",
    re.IGNORECASE,
)
MAX_SPAN = 10
#: A title needs this lead in ReDial mentions over the runner-up (and at least this many
#: mentions) to be picked without asking.
DOMINANCE = 6.0
#: A title written in lower case and made of everyday words ("loved the matrix", "like heat")
#: is read as a title only after a cue, and only when the film is this often talked about.
LOWER_CASE_MIN_POPULARITY = 5.0
#: A plural-looking word ("spiders", "horses"; not "glass", "jaws" is talked about): a noun when written in
#: lower case and no one talks about the film of that name.
_PLURAL = re.compile(r"[^s]s$")
#: A lower-case plural-looking word and "and" / "or" / a comma right before a span ("sports and ").
_NOUN_LIST_RE = re.compile(r"\b([a-z]+[^s\W]s)\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or)\s+)$")
#: A popular film (this many ReDial mentions) is also found by the start of its title, as
#: people shorten it: "Grand Budapest", "Eternal Sunshine", "Shawshank" (see ``_short_keys``).
SHORT_TITLE_MIN_POPULARITY = 5.0
#: Words right before such a span that say a movie follows: "loved", "something like", "seen",
#: or a list that one of them opened ("liked titanic and heat").
_LOWER_CUE_RE = re.compile(
    r"\b(?:loved?|liked?|likes|enjoy(?:ed|s)?|adored?|seen|saw|watched|rewatched|re-watched|hated?|disliked?|"
    r"similar to|such as|fan of|favou?rite (?:movie|film) (?:is|was)|fave? (?:movie |film )?(?:is|was)|as good as)\s+"
    r"(?:[^.;!?\n]{0,60}?(?:,|\band\b|\bor\b|&)\s*)?$", re.IGNORECASE)
#: What may follow such a span: the end of a clause, a conjunction, or words that go on about it.
_LOWER_END_RE = re.compile(
    r"\s*(?:$|[.,;:!?)\"'\u2019\u201d]|(?:and|or|but|too|so|though|because|cause|since|last|yesterday|again|"
    r"recently|lately|a lot|alot|very|really|as well|when|which|it|is|was|in|with|by|from|the other|&)\b)",
    re.IGNORECASE)
#: A sentence opening with the title and then judging it: "titanic is my favourite", "heat was great".
_LOWER_VERDICT_RE = re.compile(
    r"\s+(?:is|was|'s)\s+(?:(?:my|one of my|so|really|very|the|a|an|just|such an?|absolutely|pretty|still)\s+){0,3}"
    r"(?:fav\w*|best|great|greatest|amazing|awesome|good|brilliant|excellent|incredible|fantastic|masterpiece|classic|"
    r"terrible|awful|boring|overrated|underrated|perfect)\b", re.IGNORECASE)
_ARTICLES = frozenset({"the", "a", "an"})
#: A film's topic follows: "something about time travel", "a comedy about a wedding", a bare
#: "About dinosaurs.", also a few lower-case words on ("about drug traffic", "about north
#: carolina"); a lower-case span there is what the film is about, not a title.
_TOPIC_BEFORE = re.compile(
    r"(?:\b(?:something|anything|nothing|movies?|films?|flicks?|ones?|stuff|stor(?:y|ies)|documentar(?:y|ies)|shows?|"
    r"series|comed(?:y|ies)|dramas?|thrillers?|horror|romance|cartoons?|anime)\s+(?:about|involving|featuring)"
    r"|(?:^|[.!?\n])\s*about)\s+(?:(?:a|an|the|some)\s+)?(?:(?!(?:and|or|but|i|like|loved?|liked|seen|watched)\b)"
    r"[a-z'-]+\s+){0,3}$", re.IGNORECASE)
#: "something with dinosaurs in it": a topic, not a title.
_WITH_BEFORE = re.compile(r"\bwith\s+(?:(?:a|an|the|some|lots of)\s+)?$", re.IGNORECASE)
_IN_IT_AFTER = re.compile(r"\s+in\s+it\b", re.IGNORECASE)
#: A number right after a title, as sequels are numbered (not a rating, a count or a time).
_SEQUEL_NUMBER = re.compile(r"\s*(?:[2-9]|1[0-9]|ii|iii|iv|vi|vii|viii)\b(?![:/.,]\d|\s*(?:/|out of|of\b|times?\b|"
                            r"hours?\b|hrs?\b|minutes?\b|mins?\b|stars?\b|x\b|%|\d))", re.IGNORECASE)
_MONTHS = frozenset({"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                     "november", "december"})
_MONTH_DATE = re.compile(r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
                         r"\s+\d{1,2}(?:st|nd|rd|th)?\b")
_DAY_BEFORE = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?\s+$")
#: Namesakes from the last year of the popularity data on (the year before its newest
#: ``_POPULARITY_TAIL`` share of talked-about films) have no known popularity when nobody
#: mentions them: a recent remake ("Dune" 2021, "A Star Is Born" 2018) is not outweighed by
#: mentions collected before it came out.
_POPULARITY_TAIL = 0.005


def _load_words(name: str) -> frozenset[str]:
    text = resources.files("crs.catalog").joinpath("lexicon", name).read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


def _popularity_horizon(movies) -> int | None:
    """The last year the popularity data really covers: the newest year before the final
    ``_POPULARITY_TAIL`` share of talked-about films (a few late records do not count)."""
    years = sorted((m.year for m in movies if m.popularity > 0 and m.year), reverse=True)
    if not years:
        return None
    return years[min(len(years) - 1, int(len(years) * _POPULARITY_TAIL))]


def _speaker_label(text: str, start: int, end: int) -> bool:
    """True for a word that opens a line or sentence and ends in a colon: a speaker or
    role label ("[19:02] Sam: hi", "... SYSTEM: you are now"), not a movie."""
    if text[end:end + 1] != ":":
        return False
    before = text[:start]
    opening = re.search(r"(?:^|[\n.!?])\s*(?:[\[(][^\])\n]*[\])]\s*)?$", before)
    return opening is not None


_QUOTED_RE = re.compile(r"(?<!\w)[\"'\u201c\u2018]([^\"'\u201c\u201d\u2018\u2019\n]{2,100}?)[\"'\u201d\u2019](?!\w)")


def _inside_quote(text: str, start: int, end: int) -> bool:
    """True for a title that is only part of a quoted name: the quote names something else."""
    for m in _QUOTED_RE.finditer(text):
        inner = m.group(1).strip(" .,!?")
        if m.start(1) <= start and end <= m.end(1) and end - start < len(inner):
            return True
    return False


def _quoted(text: str, start: int, end: int) -> bool:
    """The span is written in quotes (or between asterisks): "'Heat'", "*Up*"."""
    return (start > 0 and text[start - 1] in "\"'\u201c\u2018*") and (end < len(text) and text[end] in "\"'\u201d\u2019*")


def _mostly_unfoldable(title: str) -> bool:
    """A title whose letters mostly vanish when folded to ASCII (Greek, Cyrillic, CJK)."""
    letters = [c for c in title if c.isalpha()]
    kept = len(ascii_fold("".join(letters)))
    return kept < len(letters) and (kept < 4 or 2 * kept < len(letters))


@dataclass
class Mention:
    """One movie mention found in a text.

    Attributes:
        text: The words as the user wrote them.
        start / end: Character offsets in the text.
        candidates: Corpus movies the words may refer to, most popular first.
        chosen: The movie meant, or None when ambiguous.
        year: A year written next to the title, if any.
    """

    text: str
    start: int
    end: int
    candidates: list[Movie] = field(default_factory=list)
    chosen: Movie | None = None
    year: int | None = None

    @property
    def ambiguous(self) -> bool:
        return self.chosen is None and len(self.candidates) > 1


@dataclass(frozen=True)
class _Tok:
    norm: str
    start: int
    end: int
    raw: str


class TitleLinker:
    """Links movie mentions in text to movies of a :class:`MovieIndex`."""

    def __init__(self, index: MovieIndex, blocked: set[str] | None = None) -> None:
        """Build the lookup tables (a second or two for 90k movies).

        Args:
            index: The corpus movies.
            blocked: Normalised phrases that are never titles unless quoted or dated
                (genre words and people's names, which the NLU reads as such).
        """
        self.index = index
        self.common = _load_words("common_words.txt")
        self.starters = _load_words("sentence_starters.txt")
        self.function_words = _load_words("function_words.txt")
        self.popularity_horizon = _popularity_horizon(index.movies)
        self.blocked = {norm_title(b) for b in (blocked or set())}
        self.keys: dict[str, list[str]] = defaultdict(list)
        self.alias_keys: dict[str, list[str]] = defaultdict(list)
        for movie in index.movies:
            self._add_keys(movie)
        self.short_keys: dict[str, list[str]] = defaultdict(list)
        for movie in index.movies:
            self._add_short_keys(movie)
        self._fuzzy_keys: list[str] | None = None

    def _add_keys(self, movie: Movie) -> None:
        if _mostly_unfoldable(movie.title):
            return  # "The...Κόπανοι" would be found as every "the"
        key = norm_title(movie.title)
        if key:
            self.keys[key].append(movie.id)
        lowered = movie.title.lower()
        names = [movie.title[len(a):] for a in ("the ", "a ", "an ")
                 if lowered.startswith(a) and len(movie.title) > len(a) + 3]
        names += [a for a in movie.aliases if len(a) > 3 and not _mostly_unfoldable(a)]  # other titles
        for name in names:
            alias = norm_title(name)
            if alias and alias != key and movie.id not in self.alias_keys[alias]:
                self.alias_keys[alias].append(movie.id)

    def _add_short_keys(self, movie: Movie) -> None:
        """The starts of a popular film's title that people say for it: two or more words
        not ending in a function word ("grand budapest", "eternal sunshine", not "lord of
        the"), or a first word that is no everyday word ("shawshank"); never a phrase that
        is itself a title. Read in text only as written like a title (``_plausible_short``)."""
        if movie.popularity < SHORT_TITLE_MIN_POPULARITY or _mostly_unfoldable(movie.title):
            return
        words = [ascii_fold(m.group()).lower().replace("'", "").replace("\u2019", "").replace("&", "and")
                 for m in _TOKEN_RE.finditer(movie.title.split(":")[0])]
        if words and words[0] in _ARTICLES:
            words = words[1:]
        subtitled = ":" in movie.title  # "Captain America: Civil War": "captain america" is a start too
        for k in range(1, len(words) + (1 if subtitled else 0)):
            last = words[k - 1]
            if last in self.function_words or last in _ARTICLES or last.isdigit():
                continue
            if k == 1 and (len(last) < 6 or last in self.common):
                continue
            key = "".join(words[:k])
            if key not in self.keys and key not in self.alias_keys and movie.id not in self.short_keys[key]:
                self.short_keys[key].append(movie.id)

    def add_movie(self, movie: Movie) -> None:
        """Make a newly added corpus movie linkable."""
        self._add_keys(movie)
        self._add_short_keys(movie)
        self._fuzzy_keys = None

    # ------------------------------------------------------------------ public API
    def find(self, text: str) -> list[Mention]:
        """All movie mentions in ``text``, in order of appearance."""
        mentions = self._at_ids(text)
        taken = [(m.start, m.end) for m in mentions]
        tokens = [_Tok(ascii_fold(m.group()).lower().replace("'", "").replace("\u2019", "").replace("&", "and"),
                       m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(text)]
        found: list[tuple[int, int, str]] = []
        for i in range(len(tokens)):
            for j in range(min(len(tokens), i + MAX_SPAN), i, -1):
                key = "".join(t.norm for t in tokens[i:j])
                if (key in self.keys or key in self.alias_keys) and self._plausible(text, tokens, i, j, key):
                    found.append((i, j, key))
                    break
                if key in self.short_keys and self._plausible_short(text, tokens, i, j):
                    found.append((i, j, key))
                    break
        found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
        chosen_spans: list[tuple[int, int, str]] = []
        for i, j, key in found:
            span = (tokens[i].start, tokens[j - 1].end)
            if any(span[0] < e and s < span[1] for s, e in taken):
                continue
            taken.append(span)
            chosen_spans.append((i, j, key))
        for i, j, key in chosen_spans:
            start, end = tokens[i].start, tokens[j - 1].end
            ids = self.keys.get(key) or self.alias_keys.get(key) or self.short_keys[key]
            mentions.append(self._resolve(text[start:end], start, end, ids, self._year_after(text, end)))
        mentions.extend(self._fuzzy(text, taken))
        mentions.sort(key=lambda m: m.start)
        return mentions

    def resolve_title(self, title: str) -> Mention | None:
        """Link one bare title such as "Heat (1995)" (used for dataset titles and clarifications)."""
        from crs.catalog.normalize import split_title_year

        name, year = split_title_year(title)
        ids = self.keys.get(norm_title(name)) or self.alias_keys.get(norm_title(name))
        if not ids:
            return None
        return self._resolve(name, 0, len(title), ids, year)

    # ------------------------------------------------------------------ internals
    def _at_ids(self, text: str) -> list[Mention]:
        out = []
        for m in _AT_ID_RE.finditer(text):
            movie = self.index.get(m.group(1))
            if movie is not None:
                out.append(Mention(m.group(), m.start(), m.end(), [movie], movie))
        return out

    def _plausible(self, text: str, tokens: list[_Tok], i: int, j: int, key: str) -> bool:
        """Reject spans that are more likely ordinary words than a title."""
        span = tokens[i:j]
        start, end = span[0].start, span[-1].end
        quoted = _quoted(text, start, end)
        dated = self._year_after(text, end) is not None
        if len(key) <= 1:
            return dated  # 'x' in a snippet of code is no movie; "M (1931)" is
        if _speaker_label(text, start, end) or _inside_quote(text, start, end):
            return False  # "Sam:" heading a pasted chat line; "Zebra" in 'The Purple Zebra Returns'
        if quoted:
            return True
        if _SEQUEL_NUMBER.match(text[end:end + 16]):
            return False  # "Avatar 7", "Shrek 5": a sequel the corpus lacks (one it has matched as a longer span)
        words = [t.norm for t in span]
        everyday = all(w in self.common or w.isdigit() for w in words)
        capitalised = all(t.raw[0].isupper() or t.raw[0].isdigit() or t.norm in {"of", "the", "a", "and", "in", "to"}
                          for t in span) and span[0].raw[0].isupper()
        if dated:  # "Heat (1995)", "Heat 1995"; but not "the 1984 one"
            return not everyday or capitalised or re.match(r"\s*[(\[]", text[end:]) is not None
        if key in self.blocked:
            return False
        if self._topic(text, start, end) and (all(not t.raw[0].isupper() for t in span)
                                              or self._known(key) < LOWER_CASE_MIN_POPULARITY):
            return False  # "something about new york city": a topic (crs/nlu/topics.py), not the film nobody names
        if i > 0 and j - i == 1 and tokens[i - 1].norm in {"you", "u", "ya"} and span[0].raw.islower():
            return False  # "you idiot" calls the bot names, it names no movie
        if everyday and not capitalised:
            return self._cued_lower_case(text, span, key)
        if everyday:
            at_sentence_start = i == 0 or re.search(r"[.!?]\s*$", text[: span[0].start]) is not None
            if len(span) == 1 and _MONTH_DATE.match(words[0] + text[end:end + 4]) \
                    or _DAY_BEFORE.search(text[max(0, start - 5):start]) and words[0] in _MONTHS:
                return False  # "Release date May 25", "on 4 June": a date
            if at_sentence_start and len(span) == 1:
                # Capitals say nothing there: "Nothing before 1980" is no film "Nothing"; a
                # rarely named one ("Release date ...") needs more than a capital.
                if words[0] in self.starters or self._known(key) < LOWER_CASE_MIN_POPULARITY:
                    return False
            elif len(span) == 1 and self._known(key) < LOWER_CASE_MIN_POPULARITY \
                    and not _LOWER_CUE_RE.search(text[max(0, start - 80):start]):
                return False  # "Back to the Future Yes!", "Zoe's Tale": a capital alone, for a film nobody names
        elif all(t.raw.islower() for t in span) and self._known(key) == 0 \
                and not _LOWER_CUE_RE.search(text[max(0, start - 80):start]):
            return False  # "quiero ver una película": a lower-case word nobody talks about as a film ("Una")
        elif len(span) == 1 and self._plural_noun(span[0].raw, key):
            return False  # "I don't like spiders", "she loves horses": a plural noun, not a film nobody names
        return True

    def _plausible_short(self, text: str, tokens: list[_Tok], i: int, j: int) -> bool:
        """A title's start stands for the film only when written like a title (every word
        capitalised, or quoted) and, for one word, after a cue or with a verdict ("loved
        Shawshank", "Shawshank was great"): "I grew up in Indiana" names no film."""
        span = tokens[i:j]
        start, end = span[0].start, span[-1].end
        if _speaker_label(text, start, end) or _inside_quote(text, start, end):
            return False
        quoted = _quoted(text, start, end)
        capitalised = all(t.raw[0].isupper() or t.norm in self.function_words for t in span) and span[0].raw[0].isupper()
        if not (quoted or capitalised) or _SEQUEL_NUMBER.match(text[end:end + 16]):
            return False
        if len(span) > 1:
            return True
        return bool(_LOWER_CUE_RE.search(text[max(0, start - 80):start]) or _LOWER_VERDICT_RE.match(text[end:end + 60]))

    @staticmethod
    def _topic(text: str, start: int, end: int) -> bool:
        """True for a span where a film's topic is said: after "something about", or
        between "with" and "in it"."""
        before = text[max(0, start - 60):start]
        return bool(_TOPIC_BEFORE.search(before)
                    or (_WITH_BEFORE.search(before) and _IN_IT_AFTER.match(text[end:end + 12])))

    def _plural_noun(self, raw: str, key: str) -> bool:
        """A one-word title written in lower case, plural-looking, of a film nobody talks about:
        the noun is meant ("spiders", "horses")."""
        return raw.islower() and _PLURAL.search(key) is not None and self._known(key) < LOWER_CASE_MIN_POPULARITY

    def _known(self, key: str) -> float:
        """How often people talk about the best-known film of this title (ReDial mentions)."""
        return max((m.popularity for i in self.keys.get(key) or self.alias_keys.get(key, [])
                    if (m := self.index.get(i)) is not None), default=0.0)

    def _cued_lower_case(self, text: str, span: list[_Tok], key: str) -> bool:
        """A lower-case title of everyday words ("loved the matrix", "something like heat but
        ...", "titanic is my favourite"): a title when a cue says a movie is meant, the words
        do not start like an ordinary phrase ("it", "a good one"), the span ends where a
        clause or a list item would, and the film is talked about often enough."""
        words = [t.norm for t in span]
        while words and words[0] in _ARTICLES and len(words) > 1:
            words = words[1:]
        if not words or words[0] in self.function_words:
            return False
        start, end = span[0].start, span[-1].end
        if self._known(key) < LOWER_CASE_MIN_POPULARITY:
            return False
        if len(span) == 1 and _PLURAL.search(key) and (before := _NOUN_LIST_RE.search(text[max(0, start - 40):start])) \
                and self._known(before.group(1)) < LOWER_CASE_MIN_POPULARITY:
            return False  # "he likes sports and cars": a list of plural nouns, not the film Cars
        if _LOWER_CUE_RE.search(text[max(0, start - 80):start]) and _LOWER_END_RE.match(text[end:end + 20]):
            return True
        at_sentence_start = re.search(r"(?:^|[.!?\n])\s*$", text[:start]) is not None
        return at_sentence_start and _LOWER_VERDICT_RE.match(text[end:end + 60]) is not None

    @staticmethod
    def _year_after(text: str, end: int) -> int | None:
        m = _YEAR_AFTER_RE.match(text[end:end + 14])
        return int(m.group(1)) if m else None

    def _resolve(self, words: str, start: int, end: int, ids: list[str], year: int | None) -> Mention:
        movies = [self.index.by_id[i] for i in dict.fromkeys(ids) if i in self.index.by_id]
        movies.sort(key=lambda m: (-m.popularity, m.year or 0))
        if year is not None:
            close = [m for m in movies if m.year is not None and abs(m.year - year) <= 1]
            exact = [m for m in close if m.year == year]
            movies = exact or close or movies
        dated = [m for m in movies if m.year is not None]
        pool = dated or movies
        if dated:  # duplicate records of one film (same title and year): keep the most mentioned
            years: set[int | None] = set()
            pool = [m for m in pool if not (m.year in years or years.add(m.year))]
        mention = Mention(words, start, end, movies, None, year)
        if len(pool) == 1:
            mention.chosen = pool[0]
        elif (pool[0].popularity >= DOMINANCE * max(pool[1].popularity, 1.0)
              and not any(self._popularity_unknown(m) for m in pool[1:])):
            mention.chosen = pool[0]
        else:
            mention.candidates = pool
        return mention

    def _popularity_unknown(self, movie: Movie) -> bool:
        """A film newer than the popularity data (ReDial's mention counts end in 2018):
        its zero mentions say nothing about how well people know it."""
        return (self.popularity_horizon is not None and movie.year is not None
                and movie.year >= self.popularity_horizon and movie.popularity == 0)

    @staticmethod
    def _cue_items(text: str) -> list[tuple[int, int, bool]]:
        """The list items after each cue: "liked interstelar and inceptoin, memento" ->
        three spans (start, end, first-item?); each may begin with a misspelt title."""
        spans = []
        for cue in _CUE_RE.finditer(text):
            start, end = cue.span(1)
            pos, first = start, True
            for sep in re.finditer(r",|\band\b|\bor\b|&", text[start:end]):
                if text[pos:start + sep.start()].strip():
                    spans.append((pos, start + sep.start(), first))
                first, pos = False, start + sep.end()
                while pos < end and text[pos].isspace():
                    pos += 1
            if text[pos:end].strip():
                spans.append((pos, end, first))
        return spans

    def _fuzzy(self, text: str, taken: list[tuple[int, int]]) -> list[Mention]:
        """Typo-tolerant matching, only for the words right after a cue such as "loved"."""
        out = []
        for start, end, first in self._cue_items(text):
            if any(start < e and s < end for s, e in taken):
                continue
            words = text[start:end].split()
            lead = next((w.lower() for w in words if w.lower() not in _ARTICLES), "")
            if not words or (not first and lead in self.function_words):
                continue  # "liked X and it was fun": only list items that may be titles
            if self._fuzzy_keys is None:
                self._fuzzy_keys = list(self.keys)
            best: tuple[float, str, str] | None = None
            for n in range(min(len(words), 6), 0, -1):
                phrase = " ".join(words[:n])
                key = norm_title(phrase)
                if len(key) < 6 or key in self.blocked or all(w.lower() in self.common for w in words[:n]):
                    continue
                if n == 1 and key in self.keys and self._plural_noun(words[0], key):
                    continue  # "I don't like spiders": the exact match has judged that word no title
                hit = process.extractOne(key, self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=90)
                if hit is None and len(key) >= 7:  # one slip ("matirx", "incepton"), two in long titles
                    allowed = 1 if len(key) < 12 else 2
                    near = process.extractOne(key, self._fuzzy_keys, scorer=OSA.distance, score_cutoff=allowed)
                    hit = (near[0], 89.0 - near[1], near[2]) if near else None
                if hit and (best is None or hit[1] > best[0]):
                    best = (hit[1], hit[0], phrase)
            if best:
                phrase_end = start + len(best[2])
                out.append(self._resolve(best[2], start, phrase_end, self.keys[best[1]], self._year_after(text, phrase_end)))
                taken.append((start, phrase_end))
        return out
