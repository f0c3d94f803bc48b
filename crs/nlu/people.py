"""An index of people's names from the corpus, for finding them in free text."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from importlib import resources

from crs.catalog.models import MovieIndex
from crs.catalog.normalize import ascii_fold, norm_words


#: "Nolan's films" -> "Nolan films"; dropping the possessive keeps the word count unchanged.
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s\b")


#: Surnames that are also language names: "in English" asks for a language, not Jonathan English.
_LANGUAGES = frozenset({"english", "french", "german", "spanish", "italian", "japanese", "chinese", "korean",
                        "russian", "hindi", "portuguese", "dutch", "swedish", "polish", "turkish", "arabic"})
#: Words before a surname that say a person is meant, whatever its case ("by zombie", "starring cage").
_PERSON_CUE = frozenset({"by", "director", "directors", "directed", "filmmaker", "actor", "actress", "starring",
                         "starred", "stars"})
#: Words after a surname-noun that make it the noun even when capitalised: "a Zombie movie".
_FILM_WORDS = frozenset({"movie", "movies", "film", "films", "flick", "flicks", "comedy", "comedies", "apocalypse"})
#: Words after a surname that make it a place: "washington dc", "Washington State".
_PLACE_NEXT = frozenset({"dc", "d", "state"})
#: "the Coen brothers", "the Marx Brothers", "the Duplass bros".
_SIBLINGS = frozenset({"brothers", "bros", "sisters", "siblings", "twins"})
#: The same tokens as :func:`norm_words`, with their case kept and sentence ends marked.
_TOKEN = re.compile(r"[A-Za-z0-9']+|[.!?\n]")


def _load_words(name: str) -> frozenset[str]:
    text = resources.files("crs.catalog").joinpath("lexicon", name).read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(word as written, first word of a sentence?) for each word of ``norm_words(text)``."""
    folded = ascii_fold(text).replace("&", " and ")
    out: list[tuple[str, bool]] = []
    start = True
    for tok in _TOKEN.findall(folded):
        if tok in ".!?\n":
            start = True
            continue
        word = tok.replace("'", "")
        if word:
            out.append((word, start))
            start = False
    return out


class PeopleIndex:
    """Maps normalised full names ("christopher nolan") to display names.

    A surname alone ("Nolan", "Tarantino") also maps to a director when exactly one
    corpus director with at least three films has it and it is not one of the most frequent
    chat words. A surname that is also an everyday noun of the corpus plots ("zombie",
    "judge": ``lexicon/surname_nouns.txt``) names the person only when written with a
    capital inside a sentence or after a cue ("by Zombie"): "a zombie movie" is no Rob
    Zombie film.

    Siblings who make films together are found as a group: "the Coen brothers", "the
    Wachowskis" -> every person of that surname the corpus credits on a film together with
    another of them (for a plural without "brothers", as director or writer).
    """

    def __init__(self, index: MovieIndex, stop_words: frozenset[str] = frozenset()) -> None:
        self.names: dict[str, str] = {}
        films: Counter[str] = Counter()
        credits: dict[str, Counter[str]] = {}
        #: surname -> {display names} credited together on one film (any role / directing or writing)
        together: dict[str, set[str]] = defaultdict(set)
        makers: dict[str, set[str]] = defaultdict(set)
        keys: dict[str, str] = {}  # display name -> normalised name (names recur across films)
        for movie in index.movies:
            surnames: dict[str, set[str]] = {}
            for role, people in (("director", movie.directors), ("actor", movie.cast), ("writer", movie.writers)):
                for person in people:
                    key = keys.get(person)
                    if key is None:
                        key = keys[person] = norm_words(person)
                    if " " in key and len(key) > 4:
                        self.names.setdefault(key, person)
                        films[key] += 1
                        surnames.setdefault(key.rsplit(" ", 1)[1], set()).add(person)
                    credits.setdefault(person, Counter())[role] += 1
            for surname, same in surnames.items():
                if len(same) >= 2:  # two people of one surname on one film: siblings, maybe
                    together[surname].update(same)
                    crew = same & {*movie.directors, *movie.writers}
                    if len(crew) >= 2:
                        makers[surname].update(crew)
        self.together = {s: tuple(sorted(p)) for s, p in together.items()}
        self.makers = {s: tuple(sorted(p)) for s, p in makers.items()}
        #: Display name -> the role most of their corpus credits are in (directing wins ties).
        self.main_role = {person: max(("director", "actor", "writer"), key=lambda r: (c[r], r == "director"))
                          for person, c in credits.items()}
        by_surname_keys: dict[str, list[str]] = {}
        for movie in index.movies:
            for person in movie.directors:
                key = keys[person]
                if films[key] >= 3 and " " in key:
                    by_surname_keys.setdefault(key.split()[-1], [])
                    if key not in by_surname_keys[key.split()[-1]]:
                        by_surname_keys[key.split()[-1]].append(key)
        self.surnames = {s: self.names[k[0]] for s, k in by_surname_keys.items()
                         if len(k) == 1 and len(s) > 3 and s not in stop_words and s not in _LANGUAGES}
        self.nouns = _load_words("surname_nouns.txt")
        self._common = _load_words("common_words.txt")
        self.max_words = 4

    def find(self, text: str) -> list[tuple[str, int, int]]:
        """(display name, start word, end word) for each person mentioned, longest first;
        a group of siblings gives each of them with the same span."""
        tokens = _tokens(_POSSESSIVE.sub("", text))
        words = [w.lower() for w, _ in tokens]
        out: list[tuple[str, int, int]] = []
        used: set[int] = set()
        for names, i, j in self._groups(words):
            out.extend((name, i, j) for name in names)
            used.update(range(i, j))
        for n in range(self.max_words, 0, -1):
            for i in range(len(words) - n + 1):
                if any(j in used for j in range(i, i + n)):
                    continue
                key = " ".join(words[i:i + n])
                name = self.names.get(key) if n > 1 else self.surnames.get(key)
                if name and n == 1 and not self._surname_named(tokens, words, i, key):
                    continue  # "a zombie movie": the noun, not Rob Zombie; "washington dc": the city
                if name:
                    out.append((name, i, i + n))
                    used.update(range(i, i + n))
        return out

    def _surname_named(self, tokens: list[tuple[str, bool]], words: list[str], i: int, key: str) -> bool:
        """Does surname ``key`` alone at word ``i`` name its person? Not before "dc" / "state"
        (a place); if it is also a noun, only when :meth:`_named` says so and no film word
        follows it ("a Zombie movie" is the noun however it is written; "by Zombie" is the person)."""
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if nxt in _PLACE_NEXT:
            return False
        if key not in self.nouns:
            return True
        if i > 0 and words[i - 1] in _PERSON_CUE:
            return True
        return nxt not in _FILM_WORDS and self._named(tokens, words, i)

    @staticmethod
    def _named(tokens: list[tuple[str, bool]], words: list[str], i: int) -> bool:
        """A surname that is also a noun names the person when capitalised inside a
        sentence ("I love Zombie's films") or after a cue ("by zombie", "directed by Zombie")."""
        raw, sentence_start = tokens[i]
        return (raw[0].isupper() and not sentence_start) or (i > 0 and words[i - 1] in _PERSON_CUE)

    def in_group(self, words: list[str], i: int, j: int) -> bool:
        """True when words ``i:j`` lie inside a sibling group ("Coen Brothers" in "the
        Coen Brothers"): a title there means the people."""
        return any(s <= i and j <= e for _, s, e in self._groups(words))

    def _groups(self, words: list[str]) -> list[tuple[tuple[str, ...], int, int]]:
        """Sibling groups: "(the) X brothers|sisters|bros" (credited together in any role)
        and "the Xs" (credited together as directors or writers)."""
        out = []
        i = 0
        while i < len(words):
            word, nxt = words[i], words[i + 1] if i + 1 < len(words) else ""
            start = i - 1 if i > 0 and words[i - 1] == "the" else i
            names: tuple[str, ...] = ()
            if nxt in _SIBLINGS and word not in _LANGUAGES:
                names, end = self.together.get(word, ()), i + 2
            elif start < i and len(word) > 3 and word.endswith("s") and word not in self._common:
                names = self.makers.get(word[:-1], ()) or (self.makers.get(word[:-2], ()) if word.endswith("es") else ())
                end = i + 1
            if names:
                out.append((names, start, end))
                i = end
            else:
                i += 1
        return out
