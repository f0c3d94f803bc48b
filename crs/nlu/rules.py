"""The rule-based NLU: intents, movies, genres, people, moods, plot topics (keywords) and
years, with negation.

A message is split into clauses ("I loved Heat and Collateral, nothing too violent
though" -> two clauses); a negation cue shortly before a slot in the same clause makes
it a dislike, a "seen" cue makes a movie seen. Movie titles and names are masked before
genres and moods are read, so "The Dark Knight" does not mean the mood "dark".
"""

from __future__ import annotations

import re

from rapidfuzz.distance import OSA

from crs.catalog.linker import Mention, TitleLinker
from crs.catalog.models import Movie
from crs.catalog.normalize import norm_words
from crs.nlu import attributes, complaints
from crs.nlu.lexicon import Lexicon, load_lexicon
from crs.nlu.people import PeopleIndex
from crs.nlu.questions import aspects as question_aspects
from crs.nlu.topics import TopicReader
from crs.nlu.types import Intent, NLUResult
from crs.nlu.years import bare_years, parse_years
from crs.preferences import SEQUEL, Polarity, PreferenceItem, Slot

#: "but" splits clauses except in "anything but X" / "all but X", where it negates X.
_CLAUSE_SPLIT = re.compile(r"[.;!?\n]+|,|(?<!anything )(?<!everything )(?<!all )\bbut\b|\bthough\b|\bhowever\b|"
                           r"\bwhereas\b|\balthough\b", re.IGNORECASE)
_NEG = re.compile(
    r"\b(no|not|nothing|never|none|nor|neither|without|except|avoid|hate|hates|hated|dislike|dislikes|disliked|"
    r"less|rather not|tired of|sick of|can't stand|cant stand|skip|nope|other than|(?:anything|everything|all) but)\b|n't\b|"
    r"\bdont\b|\bdoesnt\b|\bdidnt\b|\bisnt\b|\bwont\b"
)
_NOT_SEEN = re.compile(r"(haven'?t|have not|never|not yet|didn'?t|did not|don'?t think i'?(?:ve| have)|"
                       r"(?:have|did) you(?: ever)?)\s+(?:\w+\s+){0,2}?(seen|watched|saw|see|watch)")
#: Asking the bot ("have you seen X?") is no report of having seen it.
_ASKS_BOT_SEEN = re.compile(r"\b(?:have|did) you(?: ever)?\s+(?:\w+\s+)?(?:seen|watched|saw|see|watch)\b", re.IGNORECASE)
_SEEN = re.compile(r"\b(seen|watched|saw|already)\b")
_GREET = re.compile(r"^\W*(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening)|greetings|yo)\b", re.IGNORECASE)
_BYE = re.compile(r"\b(bye|goodbye|good bye|see you|that'?s all|thats all|i'?m done|i'?m set|gotta go|take care|"
                  r"thanks? (?:you )?for (?:trying|(?:all )?(?:your |the )?help(?:ing)?))\b", re.IGNORECASE)
_RESET = re.compile(r"\b(start over|reset|new conversation|forget (everything|all|what i said)|from scratch)\b", re.IGNORECASE)
_MORE = re.compile(r"\b(more|others?|another|anything else|something else|else\?|next|different ones?|other ones?|other options|"
                   r"(?:anything|something|any(?:\s+\w+)?\s+ones?)\s+(?:else\s+)?(?:like|similar to)\s+(?:it|that|this|them|those)"
                   r")\b", re.IGNORECASE)
_ASK = re.compile(
    r"\b(recommend|recommendation|recommendations|suggest|suggestion|suggestions|what should i watch|looking for|"
    r"in the mood for|i want|i'?d like|i would like|any (good )?(films?|movies?)|something|anything|similar|like that|ideas?|show me|"
    r"what(?:'?s| is| are) (?:a |an |some )?(?:good|great|decent)|"
    r"give me|what about|how about|can you find|seeking|trying to find|i'?m interested in|i am interested in)\b", re.IGNORECASE)
_QUESTION_END = re.compile(r"\?\s*$")
_PLEASE = re.compile(r"\bplease\b", re.IGNORECASE)
_CHANGE = re.compile(r"\b(instead|change(?:d)? my mind|on second thought|scratch that|rather than|never ?mind|"
                     r"let'?s do|switch to|make it)\b", re.IGNORECASE)
_WHY = re.compile(r"\bwhy\b", re.IGNORECASE)
_ACCEPT = re.compile(r"\b(sounds? (good|great|interesting|cool|fun|awesome|amazing|perfect)|looks? (good|great|interesting)|i'?ll (watch|check|try)|will (watch|check)|perfect|great,? thanks|thank(s| you)|"
                     r"awesome|love[ds]? (it|that( one)?)|liked it|that'?s (great|perfect)|i'?ll take|give it a (try|shot|go)|"
                     r"(?:would|will|'ll|gonna|going to) (?:watch|see|check out|try) (?:it|that|this|them)|"
                     r"can'?t wait to (?:watch|see|share))\b",
                     re.IGNORECASE)
_REJECT = re.compile(r"\b(not (interested|for me|really)|no thanks|none of (these|those|them)|don'?t like (those|these|them|any)|"
                     r"not (those|these|that one)|something different|"
                     r"(?:didn'?t|did not|don'?t|do not) (?:really |much )?(?:like|love|enjoy|care for) "
                     r"(?:it|that(?: one)?|this(?: one)?)(?! (?:when|if|that|because))(?:\s+(?:much|at all|very much))?)\b",
                     re.IGNORECASE)
#: "the second is not my thing", "not really into those": about shown movies, not "horror is not my thing".
_REJECT_SHOWN = re.compile(r"(?:^\W*|\b" + complaints.SHOWN + r"\W+(?:(?:is|are|was|were|'?s|'?re)\s+)?)(?:(?:really|just)\s+)?"
                           r"not (?:really )?(?:my (?:thing|type|style|taste|cup of tea|kind of (?:movie|film))|"
                           r"into (?:that|it|this|those|these|them))\b", re.IGNORECASE)
_ALL_REF = re.compile(r"\b(all of (them|those|these)|those|these|them|all|both)\b", re.IGNORECASE)
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
             "fifth": 4, "5th": 4, "last": -2}
#: "last" in "last night", "last year", "at last" is time, not the last movie shown.
_ORD_RE = re.compile(r"(?<!\bat )\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|"
                     r"last(?!\s+(?:night|nite|week|weekend|time|times|year|month|summer|winter|spring|fall|autumn|"
                     r"christmas|halloween|day|days|few|couple|decade|\d+|two|three|four|five|ten|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b))"
                     r"\b(?:\s+one)?|(?:#|number\s+)(\d)\b", re.IGNORECASE)
_WINDOW = 5
#: After a title the user has seen, words that say they liked it: "... and loved it", "it was great".
_LIKED_AFTER = re.compile(
    r"[^.!?;]{0,40}?\b(?:(?:i\s+|we\s+)?(?:really\s+|absolutely\s+|totally\s+)?(?:loved|liked|enjoyed|adored)\s+(?:it|that|that one|this one)\b"
    r"|(?:it|that)\s+(?:was|is)\s+(?:so\s+|really\s+|very\s+|pretty\s+|just\s+)?(?:great|amazing|awesome|good|brilliant|"
    r"fantastic|excellent|incredible|perfect)\b)", re.IGNORECASE)
#: A question about a movie or person ("is it funny?", "who stars in Heat?", "do you like
#: Nolan?"): what it names is mentioned, not liked. Matched from a sentence's start or after
#: a comma; a sentence that asks for suggestions ("do you have anything newer?") is a request.
_ASK_ABOUT = re.compile(
    r"(?:^\s*|[,;:]\s*|\b(?:ok(?:ay)?|so|oh|well|wonderful|great|interesting|cool|i see|and|but|yes|no|yeah)\W+)"
    r"(?:is|was|are|were|does|did|do|has|have|had|isn'?t|wasn'?t|doesn'?t|didn'?t|who|whose|when|where|which|what|"
    r"how(?! about)|is it true|"
    r"(?:can|could) you (?:give|tell) me (?:\w+ ){0,3}?(?:info|information|details|facts|about|who|what|when)|"
    r"tell me (?:about|more)|what (?:can|do) you (?:tell me|know))\b", re.IGNORECASE)
_REQUEST = re.compile(r"\b(?:recommend\w*|suggest\w*|any (?:\w+ ){0,2}?(?:movies?|films?|ones|ideas)|anything|something|"
                      r"what(?:'?s| is| are) (?:some|a few)\b|"
                      r"what(?:'?s| is| are)(?: else| out there| (?:a|an|another|some)(?: good| great)? (?:movie|film|one)s?)? (?:similar to|like)(?=\s+\w)|what(?:'?s| is| are) (?:a |an |some )?(?:good|great|"
                      r"decent|fun|nice|solid)\b|"
                      r"looking for|is there|are there|do you have|have you got|what should i|what about|how about|"
                      r"give me (?:some|a|an|more|another)\b(?! (?:little )?(?:info|information|details|facts))|show me|i want|"
                      r"i'?d like|what else)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
#: A question about a film named before it: "Heat, is it any good?", "how about Inception? who directed it?".
_ABOUT_IT = re.compile(r"\b(?:it|that|this)\b", re.IGNORECASE)
#: Words that say what the user thinks of a film named before a question about it ("I loved Heat,
#: is it on Netflix?"); without one the title is only what the question is about.
_TASTE_CUE = re.compile(r"\b(?:lov|lik|enjoy|fan\b|favou?rit|ador|hat|dislik|seen|watch|saw|great|amazing|awesome|"
                        r"best|similar|other|more|not\b|no\b|never|didn|sound|interest|cool|fun\b|nice)\w*", re.IGNORECASE)
#: Genre words that also describe a movie: "X was funny", "looks creepy" state no wish.
_DESCRIPTIVE = frozenset({"funny", "hilarious", "scary", "creepy", "frightening", "terrifying", "suspenseful"})
#: "A documentary about space / zombies": a subgenre word after "about" is the topic, not its genre.
_DOCUMENTARY = frozenset({"documentary", "documentaries", "doc", "docs", "docu", "docuseries"})
#: Of those, the ones a film can be too much of ("too scary": no horror; "too funny" says nothing).
_TOO_GENRES = frozenset({"scary", "creepy", "frightening", "terrifying", "suspenseful"})
_COPULA = frozenset({"was", "is", "were", "are", "looks", "looked", "look", "seems", "seemed", "sounds", "sounded",
                     "so", "pretty", "very", "really", "super", "too", "quite", "retty", "its", "it's", "thats"})
_NOUNS = frozenset({"movie", "movies", "film", "films", "flick", "flicks", "one", "ones", "stuff", "comedy", "comedies",
                    "thing", "things", "show", "shows"})
#: "as a family", "the kids": who watches, not the genre.
_AUDIENCE_WORDS = frozenset({"kids", "kid", "children", "family"})
_OWNERS = frozenset({"my", "our", "the", "his", "her", "your", "their", "a", "with", "whole"})
_DIRECTOR_CUE = re.compile(r"\b(?:director|directors|directed|direct|directing|filmmaker)\b", re.IGNORECASE)
_ACTOR_CUE = re.compile(r"\b(?:actor|actress|actors|starring|stars|starred|star|acted|acting|plays|played|cast)\b",
                        re.IGNORECASE)
_WRITER_CUE = re.compile(r"\b(?:writer|written|wrote|screenplay|screenwriter)\b", re.IGNORECASE)
_NAME_WORD = re.compile(r"[^\W_]+(?:['\u2019.-][^\W_]+)*")
#: French and Italian elision before a vowel: "d'horreur", "l'amour" -> "d horreur".
_ELISION = re.compile(r"\b([dlDL])['\u2019](?=[aeiouhAEIOUH\u00C0-\u00FF])")
#: Stands for a masked title while topics are read.
_TITLE_MARK = "qqtitleqq"


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
        self._typo_targets = sorted(p for p in self.lexicon.genres
                                    if len(p) >= 6 and p.isalpha() and p not in self.lexicon.other_languages)
        self.topics = TopicReader((m.keywords for m in linker.index.movies), linker.function_words | linker.starters,
                                  self.lexicon.genres, self.lexicon.moods, self.lexicon.topic_aliases,
                                  self.lexicon.topic_phrases)

    def parse(self, text: str, turn: int = 0) -> NLUResult:
        """Understand ``text``; never raises on odd input."""
        result = NLUResult()
        studio = attributes.studio(text)
        mentions = [m for m in self.linker.find(text)
                    if not self._inside_name(text, m) and not self._surname(text, m) and not self._in_group(text, m)
                    and not (studio and _overlaps(m, studio[1]))  # "anything by Laika": the studio
                    and not _names_a_show(text, m)]
        questions = _questions(text)
        # "what about Heat, is it any good?": a bare title before a question about "it" is its subject
        subject_until = questions[0][0] if questions and _ABOUT_IT.search(text, questions[0][0]) else -1
        seen_before = False
        for clause_start, clause_end in _clauses(text):
            asking = any(a <= clause_start < b for a, b in questions)
            self._parse_clause(text, clause_start, clause_end, mentions, turn, result, asking, seen_before,
                               subject=clause_start < subject_until)
            clause = text[clause_start:clause_end].lower()
            seen_before = bool(_SEEN.search(clause)) and not _NOT_SEEN.search(clause)
        if _NO_SEQUELS.search(text.lower()) and not any(i.value == SEQUEL for i in result.items):
            # "not the sequels or prequels": the franchise of the liked movies (crs.recommender.hybrid)
            result.items.append(PreferenceItem(slot=Slot.KEYWORD, value=SEQUEL, polarity=Polarity.DISLIKE,
                                               label=SEQUEL, turn=turn))
        result.asks = question_aspects(" ".join(text[a:b] for a, b in questions)) if questions else []
        # "how long is it?", "is it in French?": the question's words are no length or language wish
        wish_text = _blank(text, questions) if result.asks else text
        result.audience = attributes.audience(wish_text)
        result.runtime = attributes.runtime(wish_text)
        result.language = attributes.language(wish_text)
        result.studio = studio[0] if studio and wish_text[studio[1][0]:studio[1][1]].strip() else None
        result.other_people = attributes.other_people(text)
        years = parse_years(text, self.reference_year)
        result.year_min, result.year_max = years.year_min, years.year_max
        result.years_mentioned = bare_years(text)
        result.mentioned = [m.chosen.id for m in mentions if m.chosen is not None]
        result.refers_to_shown = _references(text)
        result.intents = self._intents(text, result, bool(questions))
        return result

    def _surname(self, text: str, mention: Mention) -> bool:
        """A one-word title that is a director's surname ("I like Spielberg") means the
        person: the documentary "Spielberg" is rarely what people talk about."""
        if mention.text.startswith("@") or mention.year is not None or " " in mention.text.strip():
            return False
        return norm_words(mention.text) in self.people.surnames

    def _inside_name(self, text: str, mention: Mention) -> bool:
        """True when a title is only part of a person's name ("Paul" in "Paul Verhoeven",
        "Hitchcock" in "Alfred Hitchcock"): then the person was meant, not the movie."""
        words, inside = _name_words(text, mention)
        if not inside:
            return False
        a, b = inside[0], inside[-1]
        for lo in range(max(0, a - 2), a + 1):
            for hi in range(b, min(len(words), b + 3)):
                if (lo, hi) != (a, b) and norm_words(" ".join(w.group() for w in words[lo:hi + 1])) in self.people.names:
                    return True
        return False

    def _in_group(self, text: str, mention: Mention) -> bool:
        """True when a title lies inside siblings' group name ("The Coen Brothers" in "I
        love the coen brothers"): the people are meant."""
        words, inside = _name_words(text, mention)
        if not inside:
            return False
        lo, hi = max(0, inside[0] - 1), min(len(words), inside[-1] + 2)
        window = [norm_words(w.group()) for w in words[lo:hi]]
        return self.people.in_group(window, inside[0] - lo, inside[-1] - lo + 1)

    # ------------------------------------------------------------------ slots
    def _parse_clause(self, text: str, start: int, end: int, mentions: list[Mention], turn: int,
                      result: NLUResult, asking: bool = False, seen_before: bool = False,
                      subject: bool = False) -> None:
        """Read one clause. ``asking``: it is a question about a movie or person, so what
        it names is only mentioned; ``seen_before``: the clause before said "I've seen", so
        a bare "not X" here means not seen ("I've seen Predator but not First Blood");
        ``subject``: a question about "it" follows, so a title named with no word of taste is
        what the question asks about ("what about Heat, is it any good?"), not a like."""
        clause = text[start:end]
        masked = clause
        spans: list[tuple[int, int]] = []
        for m in mentions:
            if start <= m.start < end:
                rel = m.start - start
                prefix = masked[:rel].lower()  # earlier titles blanked: "Saw" is no "saw" cue
                negated = _negated(prefix)
                not_seen = bool(_NOT_SEEN.search(prefix))
                seen = bool(_SEEN.search(prefix[-60:])) and not not_seen
                asking_of = asking or (subject and m.candidates
                                       and not _TASTE_CUE.search(prefix + " " + text[m.end:end]))
                if asking_of and m.candidates:  # "who directed Heat?": the best-known Heat unless the year says
                    result.about_movies.append((m.chosen or m.candidates[0]).id)
                if re.search(r"\bwhy\b", prefix) or asking_of:
                    polarity = None  # "why Heat?" points at a shown movie; "is Heat good?" asks; no taste
                elif _OTHER_THAN.search(prefix) and not seen and not not_seen:
                    polarity = None  # "heist movies other than Ocean's Eleven": left out, not disliked
                    result.excluded.extend(c.id for c in ([m.chosen] if m.chosen is not None else m.candidates))
                elif seen_before and re.fullmatch(r"\W*(?:and\s+|but\s+)?not(?:\s+yet)?\W*", prefix):
                    polarity = None
                elif m.chosen is not None or m.ambiguous:
                    if m.ambiguous and (by_age := _by_age(prefix, m.candidates)) is not None:
                        m.chosen = by_age  # "the original Ghostbusters", "the new Ghostbusters": no "which one?"
                    said_after = text[m.end:_sentence_rest(text, m, mentions)]  # to the sentence's end or next title
                    # "Jurassic Park was too scary for him", "seen Jaws, way too scary": disliked
                    complaint = complaints.dislikes_title(prefix, said_after)
                    if not_seen:
                        polarity = Polarity.DISLIKE if negated and not _NOT_SEEN.search(prefix[-40:]) else None
                    elif seen:
                        # "watched Halloween last night and loved it", "seen Blade Runner, loved it": seen, and liked
                        polarity = Polarity.LIKE if _LIKED_AFTER.match(said_after) else Polarity.SEEN
                    else:
                        polarity = Polarity.DISLIKE if negated else Polarity.LIKE
                    seen_too = complaint and polarity == Polarity.SEEN
                    if complaint and polarity in (Polarity.LIKE, Polarity.SEEN):
                        polarity = Polarity.DISLIKE
                    if polarity is not None and m.ambiguous:
                        result.ambiguous.append((m, polarity))
                    elif polarity is not None:
                        result.items.append(PreferenceItem(slot=Slot.MOVIE, value=m.chosen.id, polarity=polarity,
                                                           label=m.chosen.display, turn=turn))
                        if seen_too or (polarity == Polarity.LIKE and _SEEN.search(prefix[-60:])):
                            result.items.append(PreferenceItem(slot=Slot.MOVIE, value=m.chosen.id, polarity=Polarity.SEEN,
                                                               label=m.chosen.display, turn=turn))
                a, b = m.start - start, min(m.end - start, len(masked))
                masked = _blank(masked, [(a, b)])
                spans.append((a, b))
        masked = _ELISION.sub(r"\1 ", masked)  # "un film d'horreur": "d horreur"
        words = norm_words(masked).split()
        for name, i, j in self.people.find(masked):
            if name not in result.people_mentioned:
                result.people_mentioned.append(name)
            result.roles.setdefault(name, self._role(name, words, i, j))
            if not asking:
                negated = _negated(" ".join(words[max(0, i - _WINDOW):i])) or _negated_after(words[j:j + 8])
                polarity = Polarity.DISLIKE if negated else Polarity.LIKE
                result.items.append(PreferenceItem(slot=Slot.PERSON, value=name, polarity=polarity, label=name, turn=turn))
            words[i:j] = ["_"] * (j - i)
        if not asking:
            self._phrases(words, turn, result)
            self._topics(clause, spans, turn, result)

    def _topics(self, clause: str, spans: list[tuple[int, int]], turn: int, result: NLUResult) -> None:
        """Plot topics ("something about time travel", "zombie films") as keyword
        preferences, read with titles and names masked ("_")."""
        marked = clause
        for a, b in sorted(spans, reverse=True):
            marked = marked[:a] + f" {_TITLE_MARK} " + marked[b:]
        marked = _ELISION.sub(r"\1 ", marked)
        words = ["_" if w == _TITLE_MARK else w for w in norm_words(marked).split()]
        for _, i, j in self.people.find(marked):
            words[i:j] = ["_"] * (j - i)
        for value, i, j in self.topics.find(words):
            negated = _negated(" ".join(words[max(0, i - _WINDOW):i])) or _negated_after(words[j:j + 8])
            polarity = Polarity.DISLIKE if negated else Polarity.LIKE
            if not any(x.slot == Slot.KEYWORD and x.value == value for x in result.items):
                result.items.append(PreferenceItem(slot=Slot.KEYWORD, value=value, polarity=polarity, label=value, turn=turn))

    def _role(self, name: str, words: list[str], i: int, j: int) -> str:
        """The role the words around a name speak of ("movies directed by X", "X as an
        actor"), else the person's main role in the corpus."""
        before, after = " ".join(words[max(0, i - 4):i]), " ".join(words[j:j + 3])
        if re.match(r"as (?:an? )?(?:actor|actress)\b", after):
            return "actor"
        if re.match(r"as (?:a )?director\b", after):
            return "director"
        for cue, role in ((_WRITER_CUE, "writer"), (_DIRECTOR_CUE, "director"), (_ACTOR_CUE, "actor")):
            if cue.search(before):
                return role
        if re.search(r"\b(?:with|starring)\s*$", before):
            return "actor"
        return self.people.main_role.get(name, "actor")

    def _phrases(self, words: list[str], turn: int, result: NLUResult) -> None:
        used: set[int] = set()
        for table, slot in ((self._genre_phrases, Slot.GENRE), (self._mood_phrases, Slot.MOOD)):
            for phrase in table:
                pw = phrase.replace("-", " ").split()
                for i in range(len(words) - len(pw) + 1):
                    if not _same_or_plural(words[i:i + len(pw)], pw) or any(k in used for k in range(i, i + len(pw))):
                        continue
                    used.update(range(i, i + len(pw)))
                    if (slot == Slot.GENRE and phrase in self.lexicon.subgenres and i > 0 and words[i - 1] == "about"
                            and _DOCUMENTARY.intersection(words)):
                        continue  # "a documentary about space": the topic (read by _topics), not sci-fi
                    too = complaints.too_before(words, i)  # "too violent", "too scary": unwanted
                    if (slot == Slot.GENRE and _not_a_genre_wish(phrase, words, i, i + len(pw))
                            and not (too and phrase in _TOO_GENRES)):
                        continue
                    if slot == Slot.MOOD and self.lexicon.moods[phrase] in _LOW_MOODS and _own_state(words, i):
                        # "I'm feeling sad": the user's mood, not the film's; cheer them up instead
                        result.items.append(PreferenceItem(slot=slot, value=_CHEER_UP, polarity=Polarity.LIKE,
                                                           label=_CHEER_UP, turn=turn))
                        continue
                    if slot == Slot.MOOD and _describes(words, i):
                        continue
                    negated = (too or _negated(" ".join(words[max(0, i - _WINDOW):i]))
                               or _negated_after(words[i + len(pw):i + len(pw) + 8]))
                    polarity = Polarity.DISLIKE if negated else Polarity.LIKE
                    if negated and slot == Slot.GENRE and phrase in self.lexicon.subgenres:
                        # "horror, but no zombie movies": the topic is unwanted, not horror
                        topic = self.topics.keyword(pw)
                        if topic and not any(x.slot == Slot.KEYWORD and x.value == topic for x in result.items):
                            result.items.append(PreferenceItem(slot=Slot.KEYWORD, value=topic, polarity=polarity,
                                                               label=topic, turn=turn))
                        continue
                    values = self.lexicon.genres[phrase] if slot == Slot.GENRE else (self.lexicon.moods[phrase],)
                    if too and slot == Slot.GENRE:
                        result.too_genres.extend(values)
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
    def _intents(self, text: str, result: NLUResult, asks_about: bool = False) -> list[Intent]:
        """Every intent the message carries, the main one first: resets, corrections and
        feedback on the shown list, then a request, then stated tastes."""
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
                         and not _ASKS_BOT_SEEN.search(lower)
                         and (result.refers_to_shown or not any(i.slot == Slot.MOVIE for i in result.items)))
        if seen_feedback:
            intents.append(Intent.SEEN)
        complaint = (not asks_about and complaints.of_shown(stripped)  # "is it too long?" asks
                     and not any(i.slot == Slot.MOVIE for i in result.items))
        if (_REJECT.search(stripped) or (_REJECT_SHOWN.search(stripped) and not _ACCEPT.search(stripped))
                or complaint):  # "the first one is too violent"
            intents.append(Intent.REJECT)  # "not my style, but I'll give it a shot" accepts
        if _BYE.search(stripped):
            intents.append(Intent.GOODBYE)
        stated = (result.items or result.ambiguous or result.year_min is not None or result.year_max is not None
                  or result.audience or result.runtime or result.language or result.studio
                  or result.other_people)
        if (_ASK.search(stripped) or (_QUESTION_END.search(stripped) and not asks_about)
                or (_PLEASE.search(stripped) and stated)):
            intents.append(Intent.ASK_REC)
        if asks_about:
            intents.append(Intent.ASK_ABOUT)
        if _ACCEPT.search(stripped) and not result.items:
            intents.append(Intent.ACCEPT)
        if stated:
            intents.append(Intent.PREFERENCE)
        if _MORE.search(stripped) and not result.items:
            intents.append(Intent.MORE)
        if _GREET.search(stripped):
            intents.append(Intent.GREET)
        if not intents and stripped:
            intents.append(Intent.CHITCHAT)
        return list(dict.fromkeys(intents))


#: A TV show named as such: "like The Office but a movie", "the show Friends", "Breaking Bad (the series)".
_SHOW_AFTER = re.compile(r"^\W{0,3}(?:but\s+(?:as\s+)?(?:a\s+)?(?:movie|film)|(?:the\s+)?(?:tv\s+)?(?:show|series|sitcom)s?\b)",
                         re.IGNORECASE)
_SHOW_BEFORE = re.compile(r"\b(?:the|tv|a|that)\s+(?:tv\s+)?(?:show|series|sitcom)\s+$", re.IGNORECASE)


def _names_a_show(text: str, mention: Mention) -> bool:
    """The title is said to be a TV show ("something like The Office but a movie"): the
    film of that name is not meant, and the words stay for the text search."""
    if mention.text.startswith("@") or mention.year is not None:
        return False
    return bool(_SHOW_AFTER.match(text[mention.end:]) or _SHOW_BEFORE.search(text[:mention.start]))


def _sentence_rest(text: str, mention: Mention, mentions: list[Mention]) -> int:
    """Where what is said of ``mention`` ends: the sentence's end or the next title."""
    end = next((m.start() for m in re.finditer(r"[.!?\n]", text[mention.end:])), len(text) - mention.end) + mention.end
    return min([end] + [m.start for m in mentions if mention.end <= m.start < end])


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the spans spaced out (offsets kept)."""
    for a, b in spans:
        text = text[:a] + " " * (b - a) + text[b:]
    return text


def _overlaps(mention: Mention, span: tuple[int, int]) -> bool:
    return mention.start < span[1] and span[0] < mention.end


def _name_words(text: str, mention: Mention) -> tuple[list[re.Match[str]], list[int]]:
    """The words of ``text`` and the indexes of those a typed title ``mention`` covers
    (none for an ``@id`` mention or a title given with its year: those are meant as movies)."""
    if mention.text.startswith("@") or mention.year is not None:
        return [], []
    words = list(_NAME_WORD.finditer(text))
    return words, [k for k, w in enumerate(words) if w.start() < mention.end and mention.start < w.end()]


def _questions(text: str) -> list[tuple[int, int]]:
    """Character spans of the questions about a movie or person (not requests; but "what
    about Heat, is it any good?" holds one after the comma)."""
    spans = []
    for sentence in _SENTENCE.finditer(text):
        body = sentence.group()
        if request := _REQUEST.search(body):
            m = _ASK_ABOUT.search(body, request.end())
            if m and "?" in body and m.group().lstrip()[:1] in ",;:" and _ABOUT_IT.search(body, m.end()):
                spans.append((sentence.start() + m.start(), sentence.end()))
            continue
        m = _ASK_ABOUT.search(body)
        if m and ("?" in body or not body[:m.start()].strip()):
            spans.append((sentence.start() + m.start(), sentence.end()))
    return spans


def _not_a_genre_wish(phrase: str, words: list[str], i: int, j: int) -> bool:
    """"X was funny" / "so funny" describe a movie; "as a family" / "the kids" say who
    watches. Neither asks for the genre, unless a noun follows ("funny movies")."""
    after = words[j] if j < len(words) else ""
    if after in _NOUNS:
        return False
    before = words[max(0, i - 2):i]
    if phrase in _DESCRIPTIVE:
        return bool(before) and before[-1] in _COPULA and not any(w in {"something", "anything"} for w in words[max(0, i - 3):i])
    if phrase in _AUDIENCE_WORDS:
        return bool(before) and before[-1] in _OWNERS
    return False


_NO_SEQUELS = re.compile(r"\b(?:no|not|without|nothing|skip|avoid|none of|other than|except)\b"
                         r"(?:\s+(?:the|any|more|of|its|their|those|these|all|from))*"
                         r"\s+(?:sequels?|prequels?|remakes?|spin-?offs?|reboots?|follow-?ups?)\b")
#: Moods that, said of the user ("I'm feeling sad"), ask for the opposite.
_LOW_MOODS = frozenset({"sad"})
_CHEER_UP = "feel-good"
#: Words between "I'm" / "I feel" and a mood word: "I'm feeling a bit sad today".
_STATE_FILLERS = frozenset({"so", "really", "very", "kinda", "kind", "of", "a", "bit", "little", "pretty", "quite",
                            "super", "too", "just", "feeling", "getting", "abit"})
_STATE_OPENERS = ("im", "i am", "i m", "i feel", "i felt", "ive been", "i ve been", "i have been", "i was", "feeling")


def _own_state(words: list[str], i: int) -> bool:
    """"I'm feeling sad", "I feel a bit sad", "feeling sad today": the word says how the user
    feels, not what the film should be ("something sad", "a sad movie" are wishes)."""
    j = i
    while j > 0 and words[j - 1] in _STATE_FILLERS:
        j -= 1
    before = " ".join(words[max(0, j - 3):j])
    return (" " + before).endswith(tuple(" " + o for o in _STATE_OPENERS)) or (j < i and words[j] == "feeling")


def _describes(words: list[str], i: int) -> bool:
    """"pretty intense", "it was so dark": a word describing a movie, not a wish (but
    "nothing too violent", "something really dark" are wishes)."""
    before = words[max(0, i - 3):i]
    if len(before) >= 2 and before[-2] in {"not", "nothing", "less"}:
        return False  # "but not so violent", "nothing that dark": a wish
    return bool(before) and before[-1] in _COPULA - {"too"} and not any(w in {"something", "anything"} for w in before)


def _clauses(text: str) -> list[tuple[int, int]]:
    spans, last = [], 0
    for m in _CLAUSE_SPLIT.finditer(text):
        spans.append((last, m.start()))
        last = m.end()
    spans.append((last, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


#: Right before a title: it is named only to be left out ("heist movies other than Ocean's Eleven",
#: "besides Up", "a space movie that isn't Interstellar"); "except" and "anything but" stay dislikes.
_OTHER_THAN = re.compile(r"\b(?:other than|besides|apart from|aside from|(?:that|which) (?:isn'?t|is not)|that'?s not)\s*$")


_OLDEST = re.compile(r"\bthe\s+(?:very\s+)?(?:original|first|old|older|oldest|classic)\s*$")
_NEWEST = re.compile(r"\bthe\s+(?:new|newer|newest|latest|recent|(?:remake|reboot|new version)\s+of)\s*$")


def _by_age(prefix: str, candidates: list[Movie]) -> Movie | None:
    """The oldest of an ambiguous title's films after "the original / first / older", the newest
    after "the new / latest / remake of"; among the films people talk about (ReDial mentions)
    when two of them are, so "the older It" is the 1990 mini-series, not the 1927 silent film.
    None without such words or without two dated candidates."""
    old, new = _OLDEST.search(prefix), _NEWEST.search(prefix)
    if not (old or new):
        return None
    dated = [c for c in candidates if c.year is not None]
    talked = [c for c in dated if c.popularity > 0]
    pool = talked if len(talked) >= 2 else dated
    if len(pool) < 2:
        return None
    return (min if old else max)(pool, key=lambda c: (c.year, -c.popularity))


def _negated(prefix: str) -> bool:
    """A negation cue among the last few words before a slot."""
    tail = " ".join(prefix.lower().replace("\u2019", "'").split()[-_WINDOW:])
    return bool(_NEG.search(tail))


#: After a genre or person: "horror is not my thing", "musicals aren't for me".
_NEG_AFTER = re.compile(r"^(?:(?:movies?|films?|stuff|flicks?)\s+)?(?:(?:is|are|was|were)\s+(?:not|never|no)|isnt|arent|wasnt)\s+"
                        r"(?:really\s+|quite\s+|exactly\s+|at all\s+)?(?:my thing|for me|my cup of tea|my style|my taste|"
                        r"my genre|my jam|my type|what i want|what im after|something i (?:like|enjoy|want))\b")


def _same_or_plural(got: list[str], phrase: list[str]) -> bool:
    """The phrase's words, the last one maybe in the plural ("romcoms", "westerns", "tearjerkers")."""
    if got == phrase:
        return True
    last = phrase[-1]
    return (got[:-1] == phrase[:-1] and len(last) >= 5 and not last.endswith("s") and slot_plural(last) == got[-1])


def slot_plural(word: str) -> str:
    """The plural people write: "comedy" -> "comedies", "thriller" -> "thrillers"."""
    return word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"


def _negated_after(words: list[str]) -> bool:
    """A negation that follows the slot instead of preceding it."""
    return bool(_NEG_AFTER.match(" ".join(words)))


def _references(text: str) -> list[int]:
    refs = []
    for m in _ORD_RE.finditer(text):
        refs.append(_ORDINALS[m.group(1).lower()] if m.group(1) else int(m.group(2)) - 1)
    if not refs and _ALL_REF.search(text):
        refs.append(-1)
    return refs
