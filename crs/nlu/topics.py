"""Plot topics: "something about time travel", "a movie about a heist", "zombie films",
"something with dinosaurs in it" -> keyword preferences (``Slot.KEYWORD``).

The dialogue keeps a liked keyword with the moods, and the recommender puts both into its
semantic text query (``Preferences.moods`` -> ``RecQuery.text``), so a topic moves the
candidates towards films whose plot and keywords speak of it.

A topic is read in three places of a clause, over its words with titles and names masked:

* after "about" / "involving" / "featuring" that follows a word for a film ("something",
  "a movie", "a comedy", "ones") or opens the clause ("About dinosaurs."): the words up
  to the end of the clause, a year, or a word that starts something else ("from the 80s",
  "but", "please"), split at "and" / "or" unless the whole phrase is a corpus keyword
  ("based on novel or book");
* "with X in it" ("something with dinosaurs in it");
* after a word of fondness ("she loves animals", "my son is into dinosaurs", "I like dogs
  and horses") or "with" after a word for a film ("a movie with horses"): one to three
  words that are a corpus keyword of at least ``MIN_MOVIES`` films, not a genre, mood,
  audience or language (those are read elsewhere);
* right before "movie(s)" / "film(s)" / "flick(s)", one to three words that are a corpus
  keyword ("zombie films", "time travel movies"), not a genre or mood of the lexicon named
  by itself, a language, or an everyday word ("good", "new", "kids");
* anywhere, a phrase of the lexicon's ``topic_phrases`` ("based on a true story", "in black
  and white"), read first: its words are then no part of another topic.

A phrase that is a corpus keyword (also in the singular: "dinosaurs" -> "dinosaur") is
given as the keyword; otherwise, after "about", as said ("a dog who saves his family").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from crs.catalog.normalize import norm_words

#: A corpus keyword counts for "X movies" when this many movies carry it.
MIN_MOVIES = 3
#: The most words a topic may have (a longer "about ..." is cut), and of a corpus keyword.
MAX_WORDS = 6
MAX_KEYWORD_WORDS = 8
_FILM_NOUNS = frozenset({"movie", "movies", "film", "films", "flick", "flicks"})
#: Words after which "about X" names a film's topic ("something about", "a comedy about").
_TRIGGERS = frozenset({"something", "anything", "nothing", "one", "ones", "stuff", "story", "stories", "documentary",
                       "documentaries", "show", "shows", "series", "cartoon", "cartoons", "anime"}) | _FILM_NOUNS
_ABOUT = frozenset({"about", "involving", "featuring"})
#: Words that end a topic: what follows is another wish ("from the 80s", "but", "please").
_STOP = frozenset({"but", "though", "please", "pls", "that", "which", "from", "before", "after", "since", "for",
                   "starring", "directed", "by", "like", "without", "except", "not", "no", "preferably", "ideally",
                   "maybe", "if", "because", "so", "set", "made", "released", "with", "where", "when", "_",
                   "instead", "anymore", "tonight", "today", "now", "again", "too", "also", "rather"})
_LEADING = frozenset({"a", "an", "the", "some", "any", "lots", "lot", "of", "plenty", "many", "more"})
#: A topic must not be one of these (after its articles): "about it", "about the director".
_NOT_TOPICS = frozenset({"it", "that", "this", "them", "those", "these", "him", "her", "me", "you", "us", "what",
                         "which", "anything", "something", "everything", "nothing", "director", "directors", "actor",
                         "actors", "actress", "cast", "plot", "ending", "story", "movie", "movies", "film", "films",
                         "one", "ones", "same", "thing", "things", "stuff", "hour", "hours", "minutes",
                         "length", "rating", "ratings", "reviews", "trailer", "sequel", "sequels", "other", "others"})
_LANGUAGE_WORDS = frozenset({"english", "spanish", "french", "german", "italian", "japanese", "korean", "chinese",
                             "mandarin", "cantonese", "hindi", "russian", "swedish", "danish", "norwegian",
                             "portuguese", "dutch", "turkish", "arabic", "polish", "persian", "thai", "foreign"})
_AUDIENCE = frozenset({"kids", "kid", "children", "childrens", "child", "family", "families", "date", "adult", "adults", "teen",
                       "teens", "girls", "boys"})
_SPLIT = frozenset({"and", "or", "&"})
#: Words of fondness before a topic: "she loves animals", "my son adores dinosaurs".
_FOND = frozenset({"love", "loves", "loved", "like", "likes", "adore", "adores", "enjoy", "enjoys"})
#: "is into dinosaurs", "really into horses": "into" after these is fondness, not a direction.
_INTO_AFTER = frozenset({"is", "s", "am", "m", "are", "re", "really", "totally", "so", "very", "big", "also"})
#: Words that open no topic before "movie(s)": "like zombie movies" is read from "zombie".
_OPENERS = frozenset({"like", "love", "loved", "want", "need", "watch", "see", "good", "great", "best", "other", "my",
                      "our", "your", "his", "her", "their", "i", "you", "we", "more", "no", "not", "any", "all"})
_DIGIT = re.compile(r"\d")


def _singular(word: str) -> list[str]:
    """Singular forms a plural may have: "dinosaurs" -> ["dinosaur"], "bodies" -> ["body", "bodie"]."""
    out = []
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 4:
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        out.append(word[:-1])
    return out


class TopicReader:
    """Finds plot topics in a clause's words (see the module docstring).

    Args:
        keywords: Every movie's keyword list (the corpus vocabulary, counted per movie).
        excluded: Words never read as a topic before "movie(s)" on their own: everyday
            and function words of chat.
        lexicon_genres: Genre phrase -> genres; a phrase that names its own genre ("war
            movies", "musical films") is a genre wish, not also a topic.
        moods: Mood phrases (never topics before "movie(s)").
        aliases: Everyday name -> corpus keyword ("marvel" -> "marvel comic"), used when the
            corpus has that keyword.
        phrases: Phrase said anywhere -> corpus keyword ("based on a true story" -> "based on
            true story"), used when the corpus has that keyword.
    """

    def __init__(self, keywords: Iterable[Iterable[str]], excluded: frozenset[str],
                 lexicon_genres: dict[str, tuple[str, ...]], moods: Iterable[str],
                 aliases: dict[str, str] | None = None, phrases: dict[str, str] | None = None) -> None:
        counts: Counter[str] = Counter()
        canonical: dict[str, str] = {}
        keys: dict[str, str] = {}  # keyword as written -> normalised (keywords recur across films)
        for movie_keywords in keywords:
            for keyword in set(movie_keywords):
                key = keys.get(keyword)
                if key is None:
                    key = keys[keyword] = norm_words(keyword)
                if key:
                    counts[key] += 1
                    canonical.setdefault(key, keyword.strip().lower())
        self.counts = counts
        self.canonical = canonical
        self.aliases = {norm_words(k): norm_words(v) for k, v in (aliases or {}).items()}
        self.phrases = sorted(((norm_words(k).split(), canonical[norm_words(v)]) for k, v in (phrases or {}).items()
                               if counts.get(norm_words(v))), key=lambda p: -len(p[0]))
        self.excluded = excluded
        self.own_genre = {norm_words(p) for p, genres in lexicon_genres.items() if p.replace("-", " ") in
                          {g.replace("-", " ") for g in genres}}
        self.moods = {norm_words(m) for m in moods}
        self.genre_words = {norm_words(p) for p in lexicon_genres}

    def keyword(self, words: list[str], min_movies: int = 1) -> str | None:
        """The corpus keyword these words are, also with the last one in the singular."""
        if not words:
            return None
        forms = [words] + [words[:-1] + [s] for s in _singular(words[-1])]
        for form in forms:
            key = " ".join(form)
            key = self.aliases.get(key, key)
            if self.counts.get(key, 0) >= min_movies:
                return self.canonical[key]
        return None

    def find(self, words: list[str]) -> list[tuple[str, int, int]]:
        """(topic, start word, end word) for each topic in ``words`` (masked words are "_")."""
        out, words = self._phrases(words)
        used: set[int] = set()
        for i, word in enumerate(words):
            if i in used:
                continue
            if word in _ABOUT and (i == 0 or words[i - 1] in _TRIGGERS or self._genre_before(words, i)):
                topics, end = self._about(words, i + 1)
                out.extend(topics)
                used.update(range(i, end))
            elif word == "with":
                k = next((k for k in range(i + 2, min(len(words), i + 2 + MAX_WORDS)) if words[k:k + 2] == ["in", "it"]),
                         None)
                if k is not None and "_" not in words[i + 1:k]:
                    topics, _ = self._about(words[:k], i + 1)
                    out.extend(topics)
                    used.update(range(i, k + 2))
                elif i > 0 and (words[i - 1] in _TRIGGERS or self._genre_before(words, i)):  # "a movie with horses"
                    topics, end = self._fond(words, i + 1)
                    out.extend(topics)
                    used.update(range(i, end))
            elif word in _FOND or (word == "into" and i > 0 and words[i - 1] in _INTO_AFTER):
                topics, end = self._fond(words, i + 1)
                out.extend(topics)
                used.update(range(i, end))
        for i, word in enumerate(words):
            if word not in _FILM_NOUNS:
                continue
            for n in (3, 2, 1):
                a = i - n
                if a < 0 or any(k in used for k in range(a, i)):
                    continue
                phrase = words[a:i]
                key = " ".join(phrase)
                if "_" in phrase or _DIGIT.search(key) or key in self.own_genre or key in self.moods:
                    continue
                if any(w in _LANGUAGE_WORDS | _AUDIENCE | _LEADING for w in phrase):
                    continue
                if (n == 1 and phrase[0] in self.excluded) or phrase[0] in _OPENERS:
                    continue
                found = self.keyword(phrase, MIN_MOVIES)
                if found:
                    out.append((found, a, i))
                    used.update(range(a, i))
                    break
        return out

    def _phrases(self, words: list[str]) -> tuple[list[tuple[str, int, int]], list[str]]:
        """The ``topic_phrases`` in ``words``, and the words with those masked ("_")."""
        out: list[tuple[str, int, int]] = []
        masked = list(words)
        for phrase, keyword in self.phrases:
            n = len(phrase)
            for i in range(len(masked) - n + 1):
                if masked[i:i + n] == phrase:
                    out.append((keyword, i, i + n))
                    masked[i:i + n] = ["_"] * n
        return out, masked

    def _about(self, words: list[str], a: int) -> tuple[list[tuple[str, int, int]], int]:
        """The topics after "about" at word ``a``, and the word where they end: the longest
        corpus keyword that ends where the topic does, else the words as said, up to a
        stop; parts joined by "and" / "or" are topics of their own."""
        out: list[tuple[str, int, int]] = []
        while True:
            while a < len(words) and words[a] in _LEADING:
                a += 1
            if a >= len(words) or words[a] in _STOP or _DIGIT.search(words[a]):
                return out, a
            best = None
            for n in range(min(MAX_KEYWORD_WORDS, len(words) - a), 0, -1):
                if "_" in words[a:a + n] or not self._ends(words, a + n) or (n == 1 and words[a] in _NOT_TOPICS):
                    continue
                found = self.keyword(words[a:a + n])
                if found:  # "film history", "one night stand": a corpus keyword, whatever its first word
                    best = (found, a, a + n)
                    break
            if best is None and words[a] in _NOT_TOPICS:
                return out, a
            if best is None:
                j = a
                while j < len(words) and j - a < MAX_WORDS and not self._ends(words, j):
                    j += 1
                b = self._trim(words, a, j)
                if b > a and words[b - 1] not in _NOT_TOPICS and len(" ".join(words[a:b])) >= 3:
                    best = (" ".join(words[a:b]), a, b)
                a = j
            else:
                a = best[2]
            if best is not None:
                out.append(best)
            if a < len(words) and words[a] in _SPLIT:
                a += 1
                continue
            return out, a

    def _fond(self, words: list[str], a: int) -> tuple[list[tuple[str, int, int]], int]:
        """Corpus keywords right after a word of fondness or "with" ("loves dogs and horses"),
        and the word where they end; nothing unless the words are a keyword that no other
        reading claims (a genre, mood, audience, language, title or name)."""
        out: list[tuple[str, int, int]] = []
        while True:
            while a < len(words) and words[a] in _LEADING:
                a += 1
            found = None
            for n in range(min(3, len(words) - a), 0, -1):
                phrase = words[a:a + n]
                key = " ".join(phrase)
                if ("_" in phrase or not self._ends(words, a + n) or key in self.genre_words or key in self.moods
                        or any(w in _NOT_TOPICS | _AUDIENCE | _LANGUAGE_WORDS | _FILM_NOUNS | self.excluded
                               for w in phrase)):
                    continue
                found = self.keyword(phrase, MIN_MOVIES)
                if found:
                    out.append((found, a, a + n))
                    a += n
                    break
            if found is None and a + 1 < len(words) and words[a + 1] in _SPLIT and (
                    words[a] in self.genre_words or words[a] in self.moods):
                a += 1  # "likes sports and cars": the genre is read elsewhere, the list goes on
            elif found is None or a >= len(words) or words[a] not in _SPLIT:
                return out, a
            a += 1

    @staticmethod
    def _ends(words: list[str], j: int) -> bool:
        """A topic may end before word ``j``: the clause ends, another wish or part starts,
        or a year follows ("in the 80s")."""
        if j >= len(words):
            return True
        word = words[j]
        if word in _STOP or word in _SPLIT or _DIGIT.search(word):
            return True
        rest = words[j + 1:j + 3]
        return word == "in" and (any(_DIGIT.search(w) for w in rest) or bool(rest and rest[0] in _LANGUAGE_WORDS))

    def _genre_before(self, words: list[str], i: int) -> bool:
        """"a comedy about", "horror about": a genre word for a film right before "about"."""
        before = words[i - 1]
        return before in self.genre_words or any(s in self.genre_words for s in _singular(before))

    @staticmethod
    def _trim(words: list[str], a: int, b: int) -> int:
        """Drop trailing words that cannot end a topic ("time travel in the")."""
        while b > a and words[b - 1] in _LEADING | {"in", "of", "to", "and", "or", "&"}:
            b -= 1
        return b
