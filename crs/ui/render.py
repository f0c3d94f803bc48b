"""Turn the service's plain dicts into what the web page shows.

Everything here is pure (dict in, string out) so it can be tested without a browser.
Every piece of text that could come from a user, a dataset or an LLM is HTML-escaped
before it reaches the page: the panels are raw ``gr.HTML``, which Gradio does not
sanitise, and chat messages are escaped as well so that what a user typed is shown
literally instead of being interpreted as markup.

The panels carry their actions as ``data-*`` attributes on real ``<button>`` elements
(focusable, with an ``aria-label`` naming the movie or preference); the page script in
:mod:`crs.ui.assets` turns a click into a Gradio event carrying those attributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

#: (section key, preference slot, polarity, heading) in the order the panel lists them.
PREFERENCE_SECTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("liked_movies", "movie", "like", "Movies you liked"),
    ("disliked_movies", "movie", "dislike", "Movies you didn't like"),
    ("seen_movies", "movie", "seen", "Already seen"),
    ("liked_genres", "genre", "like", "Genres you like"),
    ("disliked_genres", "genre", "dislike", "Genres to avoid"),
    ("liked_people", "person", "like", "People you like"),
    ("disliked_people", "person", "dislike", "People to avoid"),
    ("moods", "mood", "like", "In the mood for"),
    ("disliked_moods", "mood", "dislike", "Not in the mood for"),
    ("keywords", "keyword", "like", "Themes"),
    ("disliked_keywords", "keyword", "dislike", "Themes to avoid"),
)

#: The card buttons: (action sent to the service, visible text, aria-label template).
CARD_ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("like", "👍 Like", "Like {title}"),
    ("reject", "👎 Not for me", "Not for me: {title}"),
    ("seen", "👁 Seen it", "I have seen {title}"),
    ("more_like_this", "More like this", "More movies like {title}"),
    ("why", "Why?", "Why {title}?"),
)

EMPTY_PREFERENCES_HTML = (
    '<p class="crs-empty">Nothing yet. Tell me about movies, genres or actors you like '
    "(or don't).</p>"
)
EMPTY_RECOMMENDATIONS_HTML = (
    '<p class="crs-empty">No recommendations yet. They appear here once I know a bit '
    "about your taste.</p>"
)
EMPTY_SESSIONS_HTML = '<p class="crs-empty">Your past conversations will be listed here.</p>'
PLOT_CHARS = 160
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def _text(value: Any) -> str:
    """Escaped text of any value (None becomes the empty string)."""
    return escape("" if value is None else str(value), quote=True)


def _as_list(value: Any) -> list[str]:
    """A list of non-empty strings, whatever shape the value arrived in."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, Iterable):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return [str(value)]


def year_range_text(year_min: int | None, year_max: int | None) -> str:
    """Human wording of a year constraint ("1990–1999", "from 1990", "up to 1999")."""
    if year_min is not None and year_max is not None:
        return str(year_min) if year_min == year_max else f"{year_min}–{year_max}"
    if year_min is not None:
        return f"from {year_min}"
    if year_max is not None:
        return f"up to {year_max}"
    return ""


def one_line(plot: str | None, limit: int = PLOT_CHARS) -> str:
    """The plot's first sentence, cut at a word boundary to at most ``limit`` characters."""
    text = " ".join((plot or "").split())
    if not text:
        return ""
    first = _SENTENCE_END.split(text, maxsplit=1)[0]
    if len(first) <= limit:
        return first
    cut = first[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-")
    return cut + "…"


# ----------------------------------------------------------------------- preferences


def _chip(label: str, slot: str, value: str, polarity: str, heading: str) -> str:
    """One preference with its one-click remove button."""
    return (
        f'<li class="crs-chip"><span class="crs-chip-label">{_text(label)}</span>'
        f'<button type="button" class="crs-chip-x" data-remove="1" data-slot="{_text(slot)}" '
        f'data-value="{_text(value)}" data-polarity="{_text(polarity)}" '
        f'aria-label="Forget {_text(label)} ({_text(heading.lower())})" title="Forget this">×</button></li>'
    )


def preferences_html(view: Mapping[str, Any] | None) -> str:
    """The "What I know about you" panel from ``ChatService.preference_items``: one
    labelled group per non-empty section, each item removable with one click."""
    view = view or {}
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for item in view.get("items") or []:
        groups.setdefault((str(item.get("slot")), str(item.get("polarity"))), []).append(item)
    rows: list[str] = []
    for key, slot, polarity, heading in PREFERENCE_SECTIONS:
        items = groups.pop((slot, polarity), [])
        if items:
            chips = "".join(_chip(str(i.get("label") or i.get("value")), slot, str(i.get("value")), polarity, heading)
                            for i in items)
            rows.append(f'<dt>{escape(heading)}</dt><dd data-slot="{key}"><ul class="crs-chips">{chips}</ul></dd>')
    for (slot, polarity), items in groups.items():  # any combination the table doesn't name
        heading = f"{slot} ({polarity})"
        chips = "".join(_chip(str(i.get("label") or i.get("value")), slot, str(i.get("value")), polarity, heading)
                        for i in items)
        rows.append(f'<dt>{_text(heading)}</dt><dd data-slot="other"><ul class="crs-chips">{chips}</ul></dd>')
    years = year_range_text(view.get("year_min"), view.get("year_max"))
    if years:
        chip = _chip(years, "years", "", "", "years")
        rows.append(f'<dt>Years</dt><dd data-slot="years"><ul class="crs-chips">{chip}</ul></dd>')
    if not rows:
        return EMPTY_PREFERENCES_HTML
    return '<dl class="crs-prefs">' + "".join(rows) + "</dl>"


# --------------------------------------------------------------------- recommendations


def minutes_label(minutes: int) -> str:
    """A runtime as people write it: 88 -> "88 min", 142 -> "2 h 22 min", 120 -> "2 h"."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def recommendation_card(rec: Mapping[str, Any], plot: str = "") -> str:
    """One recommendation as a card: title (year), genres, director, top cast, a one-line
    plot, the reason it was picked, and the five feedback buttons."""
    title = _text(rec.get("title") or "Untitled")
    display = f"{rec.get('title') or 'Untitled'} ({rec['year']})" if rec.get("year") else str(rec.get("title") or "Untitled")
    year = f' <span class="crs-card-year">({_text(rec["year"])})</span>' if rec.get("year") else ""
    if isinstance(rec.get("runtime"), int) and not isinstance(rec["runtime"], bool) and rec["runtime"] > 0:
        year += f' <span class="crs-card-runtime">{_text(minutes_label(rec["runtime"]))}</span>'
    lines = [f'<h4 class="crs-card-title">{title}{year}</h4>']
    genres = _as_list(rec.get("genres"))
    if genres:
        tags = "".join(f'<li class="crs-tag">{_text(g)}</li>' for g in genres[:4])
        lines.append(f'<ul class="crs-tags" aria-label="Genres">{tags}</ul>')
    people = []
    directors = _as_list(rec.get("directors"))
    if directors:
        people.append(f"Directed by {_text(', '.join(directors[:2]))}")
    cast = _as_list(rec.get("cast"))
    if cast:
        people.append(f"Starring {_text(', '.join(cast[:3]))}")
    if people:
        lines.append(f'<p class="crs-card-meta">{" · ".join(people)}</p>')
    short = one_line(plot)
    if short:
        lines.append(f'<p class="crs-card-plot" title="{_text(plot)}">{_text(short)}</p>')
    if rec.get("reason"):
        lines.append(f'<p class="crs-card-reason">{_text(rec["reason"])}</p>')
    movie_id = _text(rec.get("id", ""))
    buttons = "".join(
        f'<button type="button" class="crs-act crs-act-{action}" data-action="{action}" data-movie="{movie_id}" '
        f'aria-label="{_text(aria.format(title=display))}">{text}</button>'
        for action, text, aria in CARD_ACTIONS
    )
    lines.append(f'<div class="crs-card-actions" role="group" aria-label="Feedback on {_text(display)}">{buttons}</div>')
    return (f'<article class="crs-card" data-movie-id="{movie_id}" aria-label="{_text(display)}">'
            + "".join(lines) + "</article>")


def recommendations_html(recs: Sequence[Mapping[str, Any]] | None, plots: Mapping[str, str] | None = None,
                         revision: int | str = "") -> str:
    """The "Recommendations" panel: the current list as cards, or a hint when empty.

    ``revision`` changes on every turn so the page re-renders (and re-enables the
    buttons) even when the list itself did not change, e.g. after "why?".
    """
    if not recs:
        return EMPTY_RECOMMENDATIONS_HTML.replace("<p ", f'<p data-rev="{_text(revision)}" ', 1)
    plots = plots or {}
    cards = [recommendation_card(r, plots.get(str(r.get("id", "")), "")) for r in recs]
    return f'<div class="crs-cards" data-rev="{_text(revision)}">' + "".join(cards) + "</div>"


# ------------------------------------------------------------------------- sessions


def sessions_html(sessions: Sequence[Mapping[str, Any]] | None, current: str | None = None) -> str:
    """This browser's conversations (newest first): open one, or forget it for good.

    Dates are written in UTC here; the page script rewrites each ``<time>`` in the
    reader's own time zone.
    """
    rows = []
    for s in sessions or []:
        if not s.get("turns") and s.get("id") != current:
            continue  # an empty "new conversation" nobody typed into
        sid = _text(s.get("id", ""))
        title = _text(s.get("title") or "New conversation")
        when = str(s.get("updated_at") or s.get("created_at") or "")
        stamp = when[:16].replace("T", " ") + " UTC" if when else ""
        turns = int(s.get("turns") or 0)
        count = f"{turns} message{'s' if turns != 1 else ''}"
        is_current = s.get("id") == current
        current_attr = ' aria-current="true"' if is_current else ""
        rows.append(
            f'<li class="crs-session{" crs-current" if is_current else ""}">'
            f'<button type="button" class="crs-session-open" data-session-action="resume" data-session="{sid}"'
            f'{current_attr} aria-label="Open conversation: {title}">'
            f'<span class="crs-session-title">{title}</span>'
            f'<span class="crs-session-meta"><time datetime="{_text(when)}">{_text(stamp)}</time> · {count}</span>'
            f"</button>"
            f'<button type="button" class="crs-session-delete" data-session-action="delete" data-session="{sid}" '
            f'data-confirm="Forget the conversation &quot;{title}&quot;? It is deleted for good." '
            f'aria-label="Forget conversation: {title} (deletes it for good)" title="Forget (delete for good)">🗑</button>'
            f"</li>"
        )
    if not rows:
        return EMPTY_SESSIONS_HTML
    return '<ul class="crs-sessions">' + "".join(rows) + "</ul>"


# ----------------------------------------------------------------------------- chat


def chat_message(role: str, text: str) -> dict[str, str]:
    """A chatbot message whose text shows literally (markup escaped, Markdown kept)."""
    return {"role": role, "content": escape(text, quote=False)}


def chat_history(history: Sequence[Mapping[str, Any]] | None) -> list[dict[str, str]]:
    """The service's stored history as chatbot messages (roles other than user/assistant dropped)."""
    return [
        chat_message(str(m["role"]), str(m.get("content") or ""))
        for m in history or []
        if m.get("role") in ("user", "assistant")
    ]
