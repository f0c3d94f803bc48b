"""Turn the service's plain dicts into what the web page shows.

Everything here is pure (dict in, string out) so it can be tested without a browser.
Every piece of text that could come from a user, a dataset or an LLM is HTML-escaped
before it reaches the page: the preferences panel and the recommendation cards are raw
``gr.HTML``, which Gradio does not sanitise, and chat messages are escaped as well so
that what a user typed is shown literally instead of being interpreted as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

#: (preferences key, heading) in the order the panel lists them.
PREFERENCE_SECTIONS: tuple[tuple[str, str], ...] = (
    ("liked_movies", "Movies you liked"),
    ("disliked_movies", "Movies you didn't like"),
    ("seen_movies", "Already seen"),
    ("liked_genres", "Genres you like"),
    ("disliked_genres", "Genres to avoid"),
    ("liked_people", "People you like"),
    ("disliked_people", "People to avoid"),
    ("moods", "In the mood for"),
    ("disliked_moods", "Not in the mood for"),
    ("keywords", "Themes"),
)

EMPTY_PREFERENCES_HTML = (
    '<p class="crs-empty">Nothing yet. Tell me about movies, genres or actors you like '
    "(or don't).</p>"
)
EMPTY_RECOMMENDATIONS_HTML = (
    '<p class="crs-empty">No recommendations yet. They appear here once I know a bit '
    "about your taste.</p>"
)

#: Scoped styles for the two HTML panels (passed as ``css_template``).
PANEL_CSS = """
.crs-empty { color: var(--body-text-color-subdued); font-style: italic; margin: 0; }
.crs-prefs dt { font-weight: 600; margin-top: 0.4em; }
.crs-prefs dd { margin: 0 0 0 0.2em; }
.crs-chip { display: inline-block; padding: 1px 8px; margin: 2px 3px 2px 0;
            border-radius: 999px; background: var(--background-fill-secondary);
            border: 1px solid var(--border-color-primary); font-size: 0.9em; }
.crs-cards { display: flex; flex-direction: column; gap: 8px; }
.crs-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
            padding: 8px 12px; background: var(--background-fill-primary); }
.crs-card-title { font-weight: 700; font-size: 1.05em; }
.crs-card-year { font-weight: 400; color: var(--body-text-color-subdued); }
.crs-card-meta { font-size: 0.9em; color: var(--body-text-color-subdued); }
.crs-card-reason { margin-top: 4px; font-style: italic; }
.crs-card details { margin-top: 4px; font-size: 0.9em; }
"""


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


def preferences_html(preferences: Mapping[str, Any] | None) -> str:
    """The "What I know about you" panel: one labelled row of chips per non-empty slot."""
    prefs = preferences or {}
    rows: list[str] = []
    for key, heading in PREFERENCE_SECTIONS:
        values = _as_list(prefs.get(key))
        if values:
            chips = "".join(f'<span class="crs-chip">{_text(v)}</span>' for v in values)
            rows.append(f'<dt>{escape(heading)}</dt><dd data-slot="{escape(key)}">{chips}</dd>')
    years = year_range_text(prefs.get("year_min"), prefs.get("year_max"))
    if years:
        rows.append(f'<dt>Years</dt><dd data-slot="years"><span class="crs-chip">{_text(years)}</span></dd>')
    if not rows:
        return EMPTY_PREFERENCES_HTML
    return '<dl class="crs-prefs">' + "".join(rows) + "</dl>"


def recommendation_card(rec: Mapping[str, Any], plot: str = "") -> str:
    """One recommendation as a card: title (year), genres, director, cast, reason, plot."""
    title = _text(rec.get("title") or "Untitled")
    year = f' <span class="crs-card-year">({_text(rec["year"])})</span>' if rec.get("year") else ""
    lines = [f'<div class="crs-card-title">{title}{year}</div>']
    genres = _as_list(rec.get("genres"))
    if genres:
        lines.append(f'<div class="crs-card-meta">{_text(", ".join(genres))}</div>')
    directors = _as_list(rec.get("directors"))
    if directors:
        lines.append(f'<div class="crs-card-meta">Directed by {_text(", ".join(directors[:2]))}</div>')
    cast = _as_list(rec.get("cast"))
    if cast:
        lines.append(f'<div class="crs-card-meta">Starring {_text(", ".join(cast[:4]))}</div>')
    if rec.get("reason"):
        lines.append(f'<div class="crs-card-reason">{_text(rec["reason"])}</div>')
    if plot:
        lines.append(f"<details><summary>Plot</summary>{_text(plot)}</details>")
    return f'<div class="crs-card" data-movie-id="{_text(rec.get("id", ""))}">' + "".join(lines) + "</div>"


def recommendations_html(recs: Sequence[Mapping[str, Any]] | None, plots: Mapping[str, str] | None = None) -> str:
    """The "Recommendations" panel: the current list as cards, or a hint when empty."""
    if not recs:
        return EMPTY_RECOMMENDATIONS_HTML
    plots = plots or {}
    cards = [recommendation_card(r, plots.get(str(r.get("id", "")), "")) for r in recs]
    return '<div class="crs-cards">' + "".join(cards) + "</div>"


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
