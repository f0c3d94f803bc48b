"""Answers to questions about one movie ("who directed it?", "how long is the second
one?", "what is Coco about?"), from the corpus's metadata only: what the corpus does not
know is said to be unknown, never guessed.

:func:`subject` picks the movie a question is about; :func:`answer` words the answer with
the ``about_*`` templates of ``prompts/replies.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from crs import facets
from crs.catalog.models import Movie, MovieIndex
from crs.dialogue.render import join_words
from crs.nlu.questions import TONES, bare_compare
from crs.nlu.types import NLUResult
from crs.prompts import PromptLibrary

#: Words that point at a movie already talked about: "who's in it?", "is that one good?".
_POINTER = re.compile(r"\b(?:it|that|this|that one|this one|the movie|the film|he|she|they)\b", re.IGNORECASE)
#: A follow-up that asks the same again of another shown movie: "and the second?", "the third one?".
_FOLLOW_UP = re.compile(r"^\W*(?:and|what about|how about|same for|ok(?:ay)?,?\s*(?:and)?)?\s*(?:the\s+)?"
                        r"(?:first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th|#\d|number \d)(?:\s+one)?\W*$",
                        re.IGNORECASE)
#: How much "who's in it" lists.
CAST_SHOWN = 4
#: Popularity (ReDial training mentions) above which a film "comes up a lot".
OFTEN, SOMETIMES = 30, 5


def last_focus(state: dict[str, Any]) -> dict[str, Any] | None:
    """The dialogue's focus (``{"movie", "aspects", "turn"}``) when the turn just before set it
    with a film: what "it", "him" or "sounds good" right after an answer point at."""
    focus = state.get("focus") or {}
    return focus if focus.get("movie") and focus.get("turn") == state["turn"] - 1 else None


def aspects_of(nlu: NLUResult, text: str, focus: dict[str, Any] | None, turn: int) -> list[str]:
    """What the message asks about a movie: its own aspects, or, for a bare "and the
    second?" right after an answer, the aspects of that answer."""
    if nlu.asks:
        return list(nlu.asks)
    if not focus or focus.get("turn") != turn - 1 or nlu.items:
        return []
    if nlu.refers_to_shown and _FOLLOW_UP.match(text):
        return list(focus.get("aspects") or [])
    how = bare_compare(text)  # "which is the newest?" then "and the oldest?"
    return [how] if how else []


def subject(nlu: NLUResult, text: str, last_recs: list[dict[str, Any]], focus: dict[str, Any] | None,
            aspects: list[str], index: MovieIndex, known: Sequence[str] = ()) -> tuple[str | None, bool]:
    """The id of the movie the question is about, and whether the message points at it
    (a title, "the second one", "it") rather than it being guessed. Named first (a title
    shared by several films means the one of ``known``, the ids liked or shown this session,
    if any), then an ordinal of the shown list, then the movie of the last answer, then the
    first shown."""
    if nlu.about_movies:
        named = index.get(nlu.about_movies[0])
        same = [i for i in known if named is not None and (m := index.get(i)) is not None
                and m.title.casefold() == named.title.casefold()]
        return (same[-1] if same and nlu.about_movies[0] not in known else nlu.about_movies[0]), True
    refs = [r for r in nlu.refers_to_shown if r != -1]
    if refs and last_recs:
        ref = refs[0]
        if ref == -2:
            return last_recs[-1]["id"], True
        if 0 <= ref < len(last_recs):
            return last_recs[ref]["id"], True
    pointed = bool(_POINTER.search(text)) or aspects != ["overview"]  # a bare "tell me more" wants more films
    if focus and focus.get("movie"):
        return focus["movie"], pointed
    if last_recs:
        return last_recs[0]["id"], pointed
    return None, pointed


def points_back(text: str) -> bool:
    """The message points at a movie already talked about ("more like it", "sounds good")."""
    return bool(_POINTER.search(text))


def compared(aspects: list[str]) -> str | None:
    """"shortest" for the aspects of "which of these is the shortest?", else None."""
    return next((a.split(":", 1)[1] for a in aspects if a.startswith("compare:")), None)


def _known_by(movies: list[Movie], how: str) -> list[Movie]:
    """The movies whose length (for shortest / longest) or year (newest / oldest) is known."""
    return [m for m in movies if (m.runtime if how in {"shortest", "longest"} else m.year)]


def pick_by(movies: list[Movie], how: str) -> Movie | None:
    """The shortest / longest / newest / oldest of ``movies`` the corpus knows that of."""
    known = _known_by(movies, how)
    if not known:
        return None
    by_runtime = how in {"shortest", "longest"}
    return (min if how in {"shortest", "oldest"} else max)(known, key=lambda m: (m.runtime if by_runtime else m.year))


def compare(movies: list[Movie], how: str, prompts: PromptLibrary, seed: str) -> str:
    """"Which of these is the shortest?" (``how``: shortest, longest, newest, oldest) over
    the shown movies whose length (year) the corpus knows; says how many it does not."""
    by_runtime = how in {"shortest", "longest"}
    what = "running time" if by_runtime else "release year"
    pick = pick_by(movies, how)
    if pick is None:
        return prompts.reply("compare_unknown", seed, what=what)
    text = prompts.reply("compare_runtime" if by_runtime else "compare_year", seed, title=pick.display, how=how,
                         minutes=pick.runtime)
    missing = len(movies) - len(_known_by(movies, how))
    return f"{text} {prompts.reply('compare_partial', seed, count=missing, what=what)}" if missing else text


def answer(movie: Movie, aspects: list[str], prompts: PromptLibrary, seed: str) -> str:
    """The grounded answer to ``aspects`` of ``movie``, one sentence per aspect."""
    lines: list[str] = []
    for aspect in aspects:
        if aspect == "overview":
            lines.extend(_overview(movie, prompts, seed))
        elif aspect.startswith("tone:"):
            lines.append(_tone(movie, aspect.split(":", 1)[1], prompts, seed))
        else:
            lines.append(_one(movie, aspect, prompts, seed, first=not lines))
    return " ".join(dict.fromkeys(line for line in lines if line)) or prompts.reply("about_nothing", seed,
                                                                                   title=movie.display)


def _one(movie: Movie, aspect: str, prompts: PromptLibrary, seed: str, first: bool = True) -> str:
    """One aspect's sentence; after the first sentence the movie is "it"."""
    title = movie.display if first else "it"

    def reply(key: str, seed: str, **values: object) -> str:
        text = prompts.reply(key, seed, **values)
        return text[:1].upper() + text[1:]

    if aspect == "plot":
        key = "about_plot" if first else "about_plot_next"
        return reply(key, seed, title=title, plot=movie.plot.strip()) if movie.plot.strip() else \
            reply("about_unknown", seed, title=title, what="a plot summary")
    if aspect in {"director", "writer", "cast"}:
        people = {"director": movie.directors, "writer": movie.writers, "cast": movie.cast[:CAST_SHOWN]}[aspect]
        if not people:
            what = {"director": "a director", "writer": "writers", "cast": "a cast"}[aspect]
            return reply("about_unknown", seed, title=title, what=what)
        return reply(f"about_{aspect}", seed, title=title, people=join_words(list(people)))
    if aspect == "year":
        return reply("about_year", seed, title=movie.title if first else "it", year=movie.year) if movie.year else \
            reply("about_unknown", seed, title=title, what="a release year")
    if aspect == "runtime":
        if not movie.runtime:
            return reply("about_unknown", seed, title=title, what="a running time")
        hours, minutes = divmod(movie.runtime, 60)
        return reply("about_runtime", seed, title=title, minutes=movie.runtime,
                     hours=f"{hours} h {minutes:02d}" if hours else f"{minutes} min")
    if aspect == "genre":
        return reply("about_genre", seed, title=title, genres=join_words(list(movie.genres))) if movie.genres else \
            reply("about_unknown", seed, title=title, what="a genre")
    if aspect == "language":
        return reply("about_language", seed, title=title, language=facets.language_name(movie.language)) \
            if movie.language else reply("about_unknown", seed, title=title, what="a language")
    if aspect == "studio":
        return reply("about_studio", seed, title=title, companies=join_words(list(movie.companies[:3]))) \
            if movie.companies else reply("about_unknown", seed, title=title, what="a studio")
    if aspect == "audience":
        family = {"family", "animation"} & set(movie.genres)
        key = "about_audience_yes" if family else "about_audience_no"
        return reply(key, seed, title=title, genres=join_words(list(movie.genres)) or "no genre")
    if aspect == "rating":
        key = "about_rating_often" if movie.popularity >= OFTEN else (
            "about_rating_sometimes" if movie.popularity >= SOMETIMES else "about_rating_rarely")
        return reply(key, seed, title=title)
    if aspect == "where":
        return reply("about_where", seed, title=title)
    return ""


def _overview(movie: Movie, prompts: PromptLibrary, seed: str) -> list[str]:
    """"Tell me more": one line of genres, director, cast and length, then the plot,
    whichever are known."""
    details = [join_words(list(movie.genres))] if movie.genres else []
    if movie.directors:
        details.append(prompts.reply("about_overview_director", seed, people=join_words(list(movie.directors[:2]))))
    if movie.cast:
        details.append(prompts.reply("about_overview_cast", seed, people=join_words(list(movie.cast[:CAST_SHOWN - 1]))))
    if movie.runtime:
        details.append(prompts.reply("about_overview_runtime", seed, minutes=movie.runtime))
    lines = [prompts.reply("about_overview", seed, title=movie.display, details="; ".join(details))] if details else []
    if movie.plot.strip():
        lines.append(prompts.reply("about_plot" if not lines else "about_plot_next", seed, title=movie.display,
                                   plot=movie.plot.strip()))
    return lines or [prompts.reply("about_nothing", seed, title=movie.display)]


def _tone(movie: Movie, tone: str, prompts: PromptLibrary, seed: str) -> str:
    """"Is it scary?": read against its genres (the corpus has no finer notion)."""
    if not movie.genres:
        return prompts.reply("about_unknown", seed, title=movie.display, what="a genre")
    fits = bool(set(TONES[tone]) & set(movie.genres))
    return prompts.reply("about_tone_yes" if fits else "about_tone_no", seed, title=movie.display,
                         genres=join_words(list(movie.genres)), tone=tone)
