"""Run simulated users against the real dialogue and score them.

Each target gets its own session in the service (``sim-<n>``); the user speaks first and
the episode ends when the target is shown or after ``turns`` user messages. Metrics:

* success rate: the target was shown within ``turns`` messages;
* mean turns to success (1 = the opening message), over successful episodes;
* success by turn: the cumulative success rate after each message;
* Recall@k of the final list: the target among the top k of the last list shown.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crs.simulation.targets import SimTarget
from crs.simulation.user import (REVEAL_ORDER, QuestionReader, answer, is_target, knowledge, plan, say_opening,
                                 say_reveal)


@dataclass
class Episode:
    """One simulated conversation.

    Attributes:
        target: What the user looked for.
        success_turn: The 1-based message after which the target was shown, or None.
        success_rank: The target's 0-based rank in that list, or None.
        final_list: Ids of the last list shown (best first).
        transcript: [{"user", "phase", "shown": [ids]}] per message.
    """

    target: SimTarget
    success_turn: int | None = None
    success_rank: int | None = None
    final_list: list[str] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SimulationResult:
    """All episodes of a run and the settings that produced them."""

    episodes: list[Episode]
    turns: int
    ks: tuple[int, ...] = (1, 3, 5)
    seconds: float = 0.0

    def metrics(self) -> dict[str, Any]:
        n = len(self.episodes)
        wins = [e.success_turn for e in self.episodes if e.success_turn is not None]
        by_turn = [sum(1 for t in wins if t <= k) / n if n else 0.0 for k in range(1, self.turns + 1)]
        out: dict[str, Any] = {
            "success_rate": len(wins) / n if n else 0.0,
            "mean_turns_to_success": sum(wins) / len(wins) if wins else None,
            "success_by_turn": by_turn,
        }
        for k in self.ks:
            hits = sum(1 for e in self.episodes if e.success_rank is not None and e.success_rank < k)
            out[f"recall@{k}"] = hits / n if n else 0.0
        phases = Counter(t["phase"] for e in self.episodes for t in e.transcript)
        out["phases"] = dict(sorted(phases.items()))
        asked = [t for e in self.episodes for t in e.transcript if "asked" in t]
        if asked:  # only a user that reads questions records them
            out["questions"] = {"asked": len(asked), "answered": sum(1 for t in asked if t["answered"]),
                                "by_attribute": dict(sorted(Counter(t["asked"] for t in asked).items()))}
        return out


def run_episode(service, session: str, target: SimTarget, turns: int, phrases: dict[str, str],
                genre_counts: Counter[str], order: tuple[str, ...] = REVEAL_ORDER,
                questions: QuestionReader | None = None, mood_words: dict[str, tuple[str, ...]] | None = None,
                voice: Any = None) -> Episode:
    """Talk to ``service`` as a user who wants ``target`` for at most ``turns`` messages.

    With ``questions`` the user answers the bot's attribute questions from the target's
    metadata (:func:`crs.simulation.user.answer`) instead of saying its next fact; the
    transcript then records each question (``asked``) and whether it was answered. With
    ``voice`` (:class:`crs.simulation.voice.LLMVoice`) each message is worded by a
    language model, the template message standing whenever that fails.
    """
    opening, reveals = plan(target.movie, phrases, genre_counts, order)
    known = knowledge(target.movie, phrases, genre_counts, mood_words or {}, order) if questions is not None else {}
    episode = Episode(target)
    message, facts = say_opening(opening), [a.value for a in opening]
    bot = ""
    for turn in range(1, turns + 1):
        said = message
        if voice is not None:
            said = voice.say(message, facts, target.movie.title, bot)
        out = service.handle_turn(session, said)
        bot = out.get("reply", "")
        recs = out.get("recommendations") or []
        step: dict[str, Any] = {"user": said, "phase": out.get("phase", ""), "shown": [r["id"] for r in recs]}
        if voice is not None:
            step["template"] = message
        episode.transcript.append(step)
        if recs:
            episode.final_list = [r["id"] for r in recs]
            hit = next((rank for rank, rec in enumerate(recs) if is_target(rec, target.movie)), None)
            if hit is not None:
                episode.success_turn, episode.success_rank = turn, hit
                break
        asked = questions.read(bot) if questions is not None else None
        reply = answer(asked, known, rejecting=bool(recs)) if asked is not None else None
        if asked is not None:
            step["asked"], step["answered"] = asked.attribute, reply is not None
        if reply is not None:
            message, fact = reply
            if fact in reveals:  # said now: not again later
                reveals.remove(fact)
            facts = [fact.value]
        else:
            fact = reveals.pop(0) if reveals else None
            message, facts = say_reveal(fact, rejecting=bool(recs)), [fact.value] if fact else []
    return episode


def run_simulation(service, targets: Sequence[SimTarget], turns: int, phrases: dict[str, str],
                   genre_counts: Counter[str], progress: bool = True, ks: tuple[int, ...] = (1, 3, 5),
                   order: tuple[str, ...] = REVEAL_ORDER, questions: QuestionReader | None = None,
                   mood_words: dict[str, tuple[str, ...]] | None = None, voice: Any = None) -> SimulationResult:
    """One episode per target, in order (deterministic with the template backend)."""
    from tqdm import tqdm

    start = time.perf_counter()
    episodes = [run_episode(service, f"sim-{n}", target, turns, phrases, genre_counts, order, questions, mood_words, voice)
                for n, target in enumerate(tqdm(targets, desc="simulate", unit="user", disable=not progress))]
    return SimulationResult(episodes, turns, ks, time.perf_counter() - start)


def to_dict(result: SimulationResult, dataset: str, file: str, command: str = "",
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON report: metrics at top level, then every episode."""
    metrics = result.metrics()
    doc: dict[str, Any] = {
        "dataset": dataset,
        "file": file,
        "turns": result.turns,
        "samples": len(result.episodes),
        "success_rate": round(metrics["success_rate"], 4),
        "mean_turns_to_success": None if metrics["mean_turns_to_success"] is None else round(metrics["mean_turns_to_success"], 3),
        "success_by_turn": [round(x, 4) for x in metrics["success_by_turn"]],
        **{f"recall@{k}": round(metrics[f"recall@{k}"], 4) for k in result.ks},
        "phases": metrics["phases"],
        **({"questions": metrics["questions"]} if "questions" in metrics else {}),
        "seconds": round(result.seconds, 2),
    }
    if command:
        doc["command"] = command
    doc.update(extra or {})
    doc["episodes"] = [{
        "dialog_id": e.target.dialog_id, "target_id": e.target.movie.id, "target": e.target.movie.display,
        "success_turn": e.success_turn, "rank": e.success_rank, "final_list": e.final_list, "transcript": e.transcript,
    } for e in result.episodes]
    return doc


def format_table(doc: dict[str, Any]) -> str:
    """A small console table of the headline numbers."""
    rows = [("samples", str(doc["samples"])), (f"success within {doc['turns']} turns", f"{doc['success_rate']:.1%}"),
            ("mean turns to success", "-" if doc["mean_turns_to_success"] is None else f"{doc['mean_turns_to_success']:.2f}")]
    rows += [(f"success after turn {i}", f"{x:.1%}") for i, x in enumerate(doc["success_by_turn"], 1)]
    rows += [(key, f"{doc[key]:.1%}") for key in doc if key.startswith("recall@")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
