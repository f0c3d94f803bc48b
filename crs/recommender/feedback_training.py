"""``crs train feedback``: stored implicit feedback becomes a per-movie bias of the retriever.

Every session of a database is turned into rewards per shown movie with the same table
as the live signal (:func:`crs.recommender.feedback.session_rewards`); a movie's bias is
its summed reward over every time it was shown, shrunk towards zero by a pseudo-count::

    bias(m) = sum of rewards of m / (times m was shown + shrinkage)     (clipped to [-1, 1])

so a movie that is shown often and turned down often sinks a little for everybody, one
that people keep liking rises, and a movie seen once barely moves. The artefact
(``feedback-v1.json``, next to the collaborative model) holds the biases, the reward
table and a summary; the app's retriever adds ``HybridWeights.feedback_bias x bias`` to
each candidate's score when ``settings.feedback_model`` names an existing file.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crs.recommender.feedback import RewardTable, Sentiment, session_rewards

if TYPE_CHECKING:
    from crs.settings import Settings

FEEDBACK_VERSION = 1
FEEDBACK_ARTEFACT_NAME = f"feedback-v{FEEDBACK_VERSION}.json"


class TooFewEventsError(ValueError):
    """The database holds too little feedback to learn from (the message says what to do)."""


@dataclass
class FeedbackModel:
    """Per-movie biases learned from stored feedback, and where they came from."""

    item_bias: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {**self.meta, "version": FEEDBACK_VERSION,
               "item_bias": {k: round(v, 5) for k, v in sorted(self.item_bias.items())}}
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> FeedbackModel:
        """Read an artefact written by :meth:`save`.

        Raises:
            FileNotFoundError: no artefact (run ``crs train feedback``).
            ValueError: another version, or not a feedback artefact.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no feedback model at {path}; run `crs train feedback`")
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not a feedback artefact ({exc})") from None
        if not isinstance(doc, dict) or doc.get("version") != FEEDBACK_VERSION or "item_bias" not in doc:
            raise ValueError(f"{path}: feedback artefact version {doc.get('version') if isinstance(doc, dict) else None!r}, "
                             f"expected {FEEDBACK_VERSION}; retrain with `crs train feedback`")
        bias = {str(k): float(v) for k, v in doc.pop("item_bias").items()}
        return cls(bias, doc)


def feedback_path(settings: Settings) -> Path:
    """The artefact ``settings.feedback_model`` names: a path, or a file name under ``artifacts_dir``."""
    name = Path(getattr(settings, "feedback_model", None) or FEEDBACK_ARTEFACT_NAME)
    return name if name.is_absolute() or len(name.parts) > 1 else Path(settings.artifacts_dir) / name


def load_feedback_bias(settings: Settings) -> dict[str, float]:
    """The learned biases when the artefact exists ({} otherwise, or when unreadable: logged)."""
    import logging

    path = feedback_path(settings)
    if not path.exists():
        return {}
    try:
        return FeedbackModel.load(path).item_bias
    except ValueError as exc:
        logging.getLogger(__name__).warning("ignoring the feedback model: %s", exc)
        return {}


def collect_rewards(repo, table: RewardTable, progress: bool = True, sentiment=None
                    ) -> tuple[dict[str, list[float]], Counter[str], dict[str, Any]]:
    """Rewards of every session: ({movie: [rewards]}, {movie: times shown}, counts)."""
    from tqdm import tqdm

    sentiment = sentiment or Sentiment()
    rewards: dict[str, list[float]] = defaultdict(list)
    shown: Counter[str] = Counter()
    sessions = repo.feedback_session_ids()
    n_events = n_lists = 0
    for session_id in tqdm(sessions, desc="sessions", unit="session", disable=not progress):
        turns = repo.history(session_id)
        events = repo.feedback(session_id)
        n_events += len(events)
        for turn in turns:
            if turn.get("recommendations"):
                n_lists += 1
                shown.update({r["id"] for r in turn["recommendations"]})
        for movie_id, reward in session_rewards(turns, events, table, sentiment).items():
            rewards[movie_id].append(reward)
    return rewards, shown, {"sessions": len(sessions), "events": n_events, "lists": n_lists}


def train_feedback(repo, table: RewardTable | None = None, *, shrinkage: float = 5.0, min_events: int = 20,
                   progress: bool = True, source: str = "") -> tuple[FeedbackModel, dict[str, Any]]:
    """Learn per-movie biases from every session in ``repo``.

    Raises:
        TooFewEventsError: fewer than ``min_events`` feedback events.
    """
    if shrinkage < 0:
        raise ValueError(f"--shrinkage must be >= 0, got {shrinkage}")
    table = table or RewardTable()
    counts = repo.feedback_counts()
    total = sum(counts.values())
    if total < min_events:
        raise TooFewEventsError(
            f"only {total} feedback event(s) in {source or 'the database'}; need at least {min_events} "
            "(chat with the app and use 👍/👎/👁 on the cards, generate a simulated log with "
            "`python -m crs.recommender.feedback_sim`, or lower --min-events)")
    rewards, shown, stats = collect_rewards(repo, table, progress)
    bias: dict[str, float] = {}
    for movie_id, values in rewards.items():
        value = math.fsum(values) / (shown[movie_id] + shrinkage)
        if abs(value) >= 0.005:
            bias[movie_id] = max(-1.0, min(1.0, value))
    flat = [r for values in rewards.values() for r in values]
    summary = {
        **stats, "events_by_kind": counts, "movies_shown": len(shown), "movies_rewarded": len(rewards),
        "movies_with_bias": len(bias), "positive": sum(1 for v in bias.values() if v > 0),
        "negative": sum(1 for v in bias.values() if v < 0),
        "mean_reward": round(math.fsum(flat) / len(flat), 4) if flat else 0.0,
        "top": [[m, round(b, 4)] for m, b in sorted(bias.items(), key=lambda kv: -kv[1])[:5]],
        "bottom": [[m, round(b, 4)] for m, b in sorted(bias.items(), key=lambda kv: kv[1])[:5]],
    }
    meta = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "source": source,
            "shrinkage": shrinkage, "reward_table": table.as_dict(), "summary": summary}
    return FeedbackModel(bias, meta), summary
