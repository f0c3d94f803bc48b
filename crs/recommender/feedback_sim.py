"""A simulated feedback log: users with a hidden target movie click the real app's cards.

No real user logs exist, so ``crs train feedback`` is trained and measured on logs made
here. Each simulated user knows one target movie of a ReDial dialogue (its attributes,
never its title, as in :mod:`crs.simulation.user`), opens with a genre and a decade, and
then reacts to every list the real service shows, on a simulated clock:

* the target is shown: 👍 after 5-20 s; the episode is a success and ends;
* a card close to the target (same director or lead actor, or most of its genres):
  "why?" after 8-25 s, half of the time;
* a card sharing no genre with the target: 👎 after 1-4.5 s (a quick reject), 60 % of
  the time, which brings a fresh list;
* a card the user has probably seen (popular): 👁 after 2-8 s, 8 % of the time;
* otherwise the user types the next fact about the target after 6-45 s (a long look
  counts as "looked and passed"), saying "None of those." half of the time when no card
  was clicked, and now and then a short judgement of the list ("Meh, those look boring.").

Every click and message goes through :class:`crs.service.ChatService` (the real graph,
recommender and session database); the clock makes dwell times realistic. Episode
metrics: success rate within ``turns`` messages (clicks count), messages to success,
mean reward per shown movie.

    python -m crs.recommender.feedback_sim --file ../shared/data/redial/train_dialogues.jsonl \\
        --db sqlite:////tmp/feedback-log.db --limit 300 --out reports/feedback-sim-train.json
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import typer

#: Card clicks tried after "why?", in order: (kind, chance, dwell range in seconds). A card
#: sharing no genre with the target is turned down; a popular one is marked seen.
CARD_CLICKS = (("reject", 0.6, (1.0, 4.5)), ("seen", 0.08, (2.0, 8.0)))
#: What the user types now and then after a list with nothing close to the target.
GRUMBLES = ("Meh, those look boring.", "Hmm, not really my thing.", "Those sound dull to me.")
#: ... and after a list with something close to the target.
CHEERS = ("Ooh, getting closer!", "Nice, that's more like it.")


class SimClock:
    """A clock that only moves when told to (seconds of simulated user time)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@contextmanager
def simulated_time(components, clock: SimClock) -> Iterator[None]:
    """Make the service, the feedback provider and the stored timestamps read ``clock``."""
    import crs.storage.repository as repository

    saved = repository.utcnow
    repository.utcnow = clock
    components.service.clock = clock
    provider = getattr(components.recommender, "feedback", None)
    if provider is not None:
        provider.clock = clock
    try:
        yield
    finally:
        repository.utcnow = saved
        del components.service.clock
        if provider is not None:
            from crs.recommender.feedback import _utc_now

            provider.clock = _utc_now


def affinity(rec: dict[str, Any], target) -> float:
    """How close a shown card is to the hidden target: genre overlap (Jaccard) plus 1 for
    the same director and 0.5 for a shared lead actor."""
    genres, wanted = set(rec.get("genres") or []), set(target.genres)
    jaccard = len(genres & wanted) / len(genres | wanted) if genres | wanted else 0.0
    director = bool(set(rec.get("directors") or []) & set(target.directors[:2]))
    actor = bool(set((rec.get("cast") or [])[:3]) & set(target.cast[:3]))
    return jaccard + float(director) + 0.5 * float(actor)


@dataclass
class FeedbackEpisode:
    target_id: str
    success_turn: int | None = None
    messages: list[str] = field(default_factory=list)
    clicks: Counter[str] = field(default_factory=Counter)


def run_user(service, session: str, target, turns: int, phrases: dict[str, str], genre_counts: Counter[str],
             rng: random.Random, clock: SimClock, popular: Callable[[str], bool],
             order: tuple[str, ...] | None = None) -> FeedbackEpisode:
    """One simulated user (see the module docstring) for at most ``turns`` messages."""
    from crs.simulation.user import REVEAL_ORDER, is_target, plan, say_opening, say_reveal

    opening, reveals = plan(target.movie, phrases, genre_counts, order or REVEAL_ORDER)
    episode = FeedbackEpisode(target.movie.id)
    out = service.handle_turn(session, say_opening(opening))
    episode.messages.append("open")
    recs = out.get("recommendations") or []
    while len(episode.messages) < turns:
        hit = next((r for r in recs if is_target(r, target.movie)), None)
        if hit is not None:
            clock.advance(rng.uniform(5, 20))
            service.click(session, hit["id"], "like")
            episode.clicks["like"] += 1
            episode.success_turn = len(episode.messages)
            break
        clicked = False
        if recs:
            scored = sorted(recs, key=lambda r: -affinity(r, target.movie))
            if affinity(scored[0], target.movie) >= 0.6 and rng.random() < 0.5:
                clock.advance(rng.uniform(8, 25))
                service.click(session, scored[0]["id"], "why")
                episode.clicks["why"] += 1
                episode.messages.append("why")
                clicked = True
                if len(episode.messages) >= turns:
                    break
            cards = {"reject": [r for r in recs if not set(r.get("genres") or []) & set(target.movie.genres)],
                     "seen": [r for r in recs if popular(r["id"])]}
            # lazily, in CARD_CLICKS order: a chance is drawn only for a kind with cards, and
            # none after the first that fires (the random numbers of the figures in docs/feedback.md)
            fired = next(((kind, dwell) for kind, chance, dwell in CARD_CLICKS
                          if cards[kind] and rng.random() < chance), None)
            if fired is not None:
                kind, dwell = fired
                clock.advance(rng.uniform(*dwell))
                out = service.click(session, cards[kind][0]["id"], kind)
                episode.clicks[kind] += 1
                episode.messages.append(kind)
                recs = out.get("recommendations") or recs
                continue
        clock.advance(rng.uniform(6, 45))
        text = say_reveal(reveals.pop(0) if reveals else None, rejecting=bool(recs) and not clicked and rng.random() < 0.5)
        if recs and rng.random() < 0.2:
            close = max(affinity(r, target.movie) for r in recs) >= 1.0
            text = f"{rng.choice(CHEERS if close else GRUMBLES)} {text}"
        out = service.handle_turn(session, text)
        episode.messages.append("say")
        recs = out.get("recommendations") or recs
    return episode


def run_log(components, targets, turns: int = 8, seed: int = 0, progress: bool = True,
            prefix: str = "fb", order: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Run one simulated user per target; returns the metrics (the log is in the database)."""
    from tqdm import tqdm

    from crs.nlu.lexicon import load_lexicon
    from crs.simulation.user import genre_phrases

    index = components.store.index
    genre_counts = Counter(g for m in index.movies for g in m.genres)
    pops = sorted((m.popularity for m in index.movies), reverse=True)
    cut = pops[min(len(pops) - 1, 300)] if pops else 0.0
    popular = lambda movie_id: (m := index.get(movie_id)) is not None and m.popularity >= cut  # noqa: E731
    rng = random.Random(seed)
    clock = SimClock()
    phrases = genre_phrases(load_lexicon())
    episodes = []
    started = time.perf_counter()
    with simulated_time(components, clock):
        for n, target in enumerate(tqdm(targets, desc="simulated users", unit="user", disable=not progress)):
            episodes.append(run_user(components.service, f"{prefix}-{seed}-{n}", target, turns, phrases,
                                     genre_counts, rng, clock, popular, order))
            clock.advance(3600)
    wins = [e.success_turn for e in episodes if e.success_turn is not None]
    clicks = sum((e.clicks for e in episodes), Counter())
    n = len(episodes)
    seconds = time.perf_counter() - started
    messages = sum(len(e.messages) for e in episodes)
    return {"users": n, "turns": turns, "seed": seed, "reveal": list(order) if order else None,
            "success_rate": round(len(wins) / n, 4) if n else 0.0,
            "mean_messages_to_success": round(sum(wins) / len(wins), 3) if wins else None,
            "messages": messages, "clicks": dict(sorted(clicks.items())), "seconds": round(seconds, 1),
            "ms_per_message": round(1000 * seconds / messages, 1) if messages else None}


def main(
    file: str = typer.Option(..., "--file", help="ReDial dialogue JSONL whose recommended movies are the hidden targets."),
    db: str = typer.Option(..., "--db", help="SQLAlchemy URL of the session database the log is written to."),
    limit: int = typer.Option(300, "--limit", min=1, help="Simulated users (one per dialogue)."),
    turns: int = typer.Option(8, "--turns", min=1, help="Messages (clicks included) per user."),
    seed: int = typer.Option(0, "--seed"),
    out: str | None = typer.Option(None, "--out", help="Also write the JSON summary here."),
    store_dir: str | None = typer.Option(None, "--store-dir", help="Built corpus (default: settings / CRS_STORE_DIR)."),
    reveal: str | None = typer.Option(None, "--reveal", help="Facts told after the opening, in order (director, actor, genre, keyword); default: crs simulate's order."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Generate a simulated feedback log in DB (one user per ReDial dialogue of FILE) and
    print its metrics as JSON."""
    import json
    import shlex
    import sys
    from pathlib import Path

    from crs.settings import apply_offline_env, load_settings
    from crs.simulation.targets import load_targets
    from crs.wiring import build_components

    apply_offline_env()
    settings = load_settings(database_url=db, store_dir=store_dir,
                             checkpoint_path=Path(f"{db.removeprefix('sqlite:///')}.checkpoints.sqlite")
                             if db.startswith("sqlite:///") else None)
    components = build_components(settings)
    try:
        targets = load_targets("redial", Path(file), settings.data_dir, components.store.index,
                               components.nlu.linker, limit)
        if not targets:
            raise SystemExit(f"error: no target of {file} is in the corpus at {settings.store_dir}")
        order = tuple(k.strip() for k in reveal.split(",") if k.strip()) if reveal else None
        doc = run_log(components, targets, turns, seed, progress, order=order)
        summary = {"command": shlex.join(["python", "-m", "crs.recommender.feedback_sim", *sys.argv[1:]]),
                   "file": file, "feedback_session": settings.feedback_session,
                   "feedback_model_loaded": bool(components.recommender.retriever.item_bias), **doc,
                   "events_by_kind": components.service.repo.feedback_counts()}
    finally:
        components.service.close()
    text = json.dumps(summary, indent=1)
    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    typer.run(main)
