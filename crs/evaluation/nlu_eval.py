"""Measure the rule NLU against the hand-labelled set (data/nlu/labelled.jsonl).

Per slot, micro precision / recall / F1 over (utterance, value) items; intents as the
accuracy of the main intent, a per-intent confusion table and multi-label F1. Every
figure is given for the whole set and for each part (``train``: looked at while fixing
the NLU; ``valid``: held out).

Slots (gold schema in data/nlu/README.md):

* ``movie``: (movie, polarity) with polarity like / dislike / seen; gold ``mention``s
  are left out. Records of one film (same normalised title and year) are one movie.
* ``movie_link``: every movie named, whatever was said about it (the linker alone).
* ``genre``, ``mood``: (value, polarity).
* ``person``: (name, like/dislike); ``person_link``: every person named;
  ``person_role``: (name, role) for gold people whose role is known.
* ``year``: ("min", year) / ("max", year); gold "recent" matches a lower bound within
  12 years of the reference year, gold "old" an upper bound of 1990 or before.
* ``audience``, ``runtime``, ``language``: one value or none.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from crs import facets
from crs.catalog.models import MovieIndex
from crs.catalog.normalize import norm_title, norm_words

SLOTS = ("movie", "movie_link", "genre", "person", "person_link", "person_role", "year", "mood",
         "audience", "runtime", "language")
#: The slots whose items make up the overall micro figure (the *_link ones repeat movie/person).
CORE_SLOTS = ("movie", "genre", "person", "year", "mood", "audience", "runtime", "language")
INTENTS = ("greet", "give_preference", "ask_recommendation", "more", "accept", "reject", "seen",
           "ask_about_movie", "ask_why", "reset", "change_of_mind", "goodbye", "chitchat")
PARTS = ("all", "train", "valid")
_POLARITIES = {"like", "dislike", "seen", "mention"}
_REQUIRED = ("intent", "intents", "movies", "genres", "people", "year_min", "year_max", "moods",
             "audience", "runtime", "language")


class LabelledSetError(ValueError):
    """A line of the labelled file is not a labelled utterance."""


def load_labelled(path: Path) -> list[dict[str, Any]]:
    """Read and check the labelled JSONL file (see data/nlu/README.md)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"labelled file not found: {path}")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelledSetError(f"{path}:{number}: not JSON ({exc.msg})") from None
            problem = _check(row)
            if problem:
                raise LabelledSetError(f"{path}:{number}: {problem}")
            rows.append(row)
    if not rows:
        raise LabelledSetError(f"{path}: no labelled utterances")
    return rows


def _check(row: Any) -> str | None:
    if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not isinstance(row.get("gold"), dict):
        return "needs 'text' (string) and 'gold' (object)"
    gold = row["gold"]
    missing = [k for k in _REQUIRED if k not in gold]
    if missing:
        return f"gold lacks {', '.join(missing)}"
    if gold["intent"] not in INTENTS or any(i not in INTENTS for i in gold["intents"]):
        return f"unknown intent in {gold['intents']!r} (known: {', '.join(INTENTS)})"
    for key in ("movies", "genres", "people", "moods"):
        for item in gold[key]:
            if item.get("polarity") not in _POLARITIES:
                return f"{key}: polarity must be one of {sorted(_POLARITIES)}, got {item.get('polarity')!r}"
    if row.get("split", "train") not in ("train", "valid"):
        return f"split must be train or valid, got {row.get('split')!r}"
    return None


# ---------------------------------------------------------------------------- items
@dataclass
class Items:
    """The slot items of one utterance, gold or predicted."""

    slots: dict[str, set[tuple]] = field(default_factory=lambda: {s: set() for s in SLOTS})
    intents: list[str] = field(default_factory=list)


def _movie_key(index: MovieIndex, movie_id: str) -> tuple:
    movie = index.get(str(movie_id))
    return (norm_title(movie.title), movie.year) if movie is not None else ("id", str(movie_id))


def _person(name: str) -> str:
    return norm_words(name)


def gold_items(gold: dict[str, Any], index: MovieIndex) -> Items:
    out = Items(intents=list(gold["intents"]))
    s = out.slots
    for m in gold["movies"]:
        key = _movie_key(index, m["id"])
        s["movie_link"].add(key)
        if m["polarity"] != "mention":
            s["movie"].add((key, m["polarity"]))
    for g in gold["genres"]:
        s["genre"].add((g["value"], g["polarity"]))
    for p in gold["people"]:
        name = _person(p["name"])
        s["person_link"].add(name)
        if p["polarity"] != "mention":
            s["person"].add((name, p["polarity"]))
        if p.get("role", "any") != "any":
            s["person_role"].add((name, p["role"]))
    for m in gold["moods"]:
        s["mood"].add((m["value"], m["polarity"]))
    if gold["year_min"] is not None:
        s["year"].add(("min", gold["year_min"]))
    if gold["year_max"] is not None:
        s["year"].add(("max", gold["year_max"]))
    for key in ("audience", "runtime", "language"):
        if gold[key] is not None:
            s[key].add(gold[key])
    return out


def predicted_items(result: Any, index: MovieIndex) -> Items:
    """The NLU's answer (an :class:`~crs.nlu.types.NLUResult`) as slot items."""
    out = Items(intents=[str(i) for i in result.intents])
    s = out.slots
    rank = {"dislike": 3, "like": 2, "seen": 1}
    movies: dict[tuple, str] = {}
    for item in result.items:
        slot, value, polarity = str(item.slot), item.value, str(item.polarity)
        if slot == "movie":
            key = _movie_key(index, value)
            if rank.get(polarity, 0) > rank.get(movies.get(key, ""), 0):
                movies[key] = polarity
        elif slot == "genre":
            s["genre"].add((value, polarity))
        elif slot == "person":
            s["person"].add((_person(value), polarity))
            s["person_link"].add(_person(value))
        elif slot == "mood":
            if value == "kids":  # the rules keep "my kids" as a mood; it is the audience
                if polarity == "like":
                    s["audience"].add("kids")
            else:
                s["mood"].add((value, polarity))
    s["movie"].update(movies.items())
    s["movie_link"].update(movies)
    s["movie_link"].update(_movie_key(index, i) for i in getattr(result, "mentioned", []))
    s["person_link"].update(_person(name) for name in getattr(result, "people_mentioned", []))
    for name, role in (getattr(result, "roles", None) or {}).items():
        s["person_role"].add((_person(name), role))
    if result.year_min is not None:
        s["year"].add(("min", result.year_min))
    if result.year_max is not None:
        s["year"].add(("max", result.year_max))
    for key in ("audience", "runtime", "language"):
        value = getattr(result, key, None)
        if key == "runtime" and value not in (None, "short", "long"):
            value = facets.parse(value).high  # "under 90 min": the gold writes a stated limit as 90
        if value is not None:
            s[key].add(value)
    return out


def _matches(slot: str, gold: tuple | Any, pred: tuple | Any, reference_year: int) -> bool:
    if slot == "year" and gold[0] == pred[0]:
        if gold[1] == "recent":
            return isinstance(pred[1], int) and reference_year - 12 <= pred[1] <= reference_year
        if gold[1] == "old":
            return isinstance(pred[1], int) and pred[1] <= 1990
    return gold == pred


def match(slot: str, gold: set, pred: set, reference_year: int) -> tuple[list, list, list]:
    """(matched, missed gold, spurious predicted) items, one prediction per gold item."""
    left = list(pred)
    matched, missed = [], []
    for g in sorted(gold, key=repr):
        hit = next((p for p in left if _matches(slot, g, p, reference_year)), None)
        if hit is None:
            missed.append(g)
        else:
            left.remove(hit)
            matched.append(g)
    return matched, missed, sorted(left, key=repr)


# ---------------------------------------------------------------------------- scoring
@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, tp: int, fp: int, fn: int) -> None:
        self.tp += tp
        self.fp += fp
        self.fn += fn

    def as_dict(self) -> dict[str, Any]:
        if self.tp + self.fp + self.fn == 0:  # nothing labelled, nothing predicted: no figure
            return {"precision": None, "recall": None, "f1": None, "support": 0, "predicted": 0, "tp": 0}
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                "support": self.tp + self.fn, "predicted": self.tp + self.fp, "tp": self.tp}


@dataclass
class PartScore:
    utterances: int = 0
    slots: dict[str, Counts] = field(default_factory=lambda: {s: Counts() for s in SLOTS})
    intent_sets: Counts = field(default_factory=Counts)
    primary_correct: int = 0
    primary_acceptable: int = 0
    confusion: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    ambiguous: int = 0
    ambiguous_gold: int = 0

    def as_dict(self) -> dict[str, Any]:
        overall = Counts()
        for slot in CORE_SLOTS:
            c = self.slots[slot]
            overall.add(c.tp, c.fp, c.fn)
        n = max(self.utterances, 1)
        return {
            "utterances": self.utterances,
            "slots": {s: c.as_dict() for s, c in self.slots.items()},
            "overall": overall.as_dict(),
            "intent": {
                "accuracy": round(self.primary_correct / n, 4),
                "accuracy_any_gold_intent": round(self.primary_acceptable / n, 4),
                "multi_label": self.intent_sets.as_dict(),
                "confusion": {g: dict(sorted(c.items())) for g, c in sorted(self.confusion.items())},
            },
            "ambiguous_mentions": self.ambiguous,
            # gold movies missed because the title was ambiguous: the bot asks which one was meant
            "movie_missed_but_asked": self.ambiguous_gold,
        }


def evaluate(rows: list[dict[str, Any]], nlu: Any, index: MovieIndex, *, field_name: str = "text",
             progress: bool = False) -> dict[str, Any]:
    """Run ``nlu.parse`` on every labelled utterance and score it.

    Returns:
        ``{"parts": {"all"|"train"|"valid": {...}}, "errors": [...]}``.
    """
    from tqdm import tqdm

    reference_year = nlu.reference_year
    parts = {p: PartScore() for p in PARTS}
    errors = []
    for row in tqdm(rows, desc="NLU", unit="utt", disable=not progress):
        result = nlu.parse(row.get(field_name) or row["text"])
        gold = gold_items(row["gold"], index)
        pred = predicted_items(result, index)
        split = row.get("split", "train")
        error: dict[str, Any] = {}
        candidates = {_movie_key(index, c.id) for m, _ in result.ambiguous for c in m.candidates}
        asked = sum(1 for key, _ in gold.slots["movie"] if key in candidates)
        for part in (parts["all"], parts[split]):
            part.utterances += 1
            part.ambiguous += len(result.ambiguous)
            part.ambiguous_gold += asked
        for slot in SLOTS:
            matched, missed, spurious = match(slot, gold.slots[slot], pred.slots[slot], reference_year)
            for part in (parts["all"], parts[split]):
                part.slots[slot].add(len(matched), len(spurious), len(missed))
            if missed or spurious:
                error[slot] = {"missed": [_show(slot, x) for x in missed], "spurious": [_show(slot, x) for x in spurious]}
        gold_primary = row["gold"]["intent"]
        pred_primary = pred.intents[0] if pred.intents else "none"
        tp = len(set(gold.intents) & set(pred.intents))
        for part in (parts["all"], parts[split]):
            part.intent_sets.add(tp, len(set(pred.intents)) - tp, len(set(gold.intents)) - tp)
            part.primary_correct += pred_primary == gold_primary
            part.primary_acceptable += pred_primary in gold.intents
            part.confusion[gold_primary][pred_primary] += 1
        if pred_primary != gold_primary:
            error["intent"] = {"gold": gold.intents, "predicted": pred.intents}
        if error:
            errors.append({"uid": row.get("uid"), "split": split, "text": row["text"], "hard": row.get("hard", False),
                           "errors": error,
                           "ambiguous": [m.text for m, _ in result.ambiguous]})
    return {"parts": {p: s.as_dict() for p, s in parts.items()}, "errors": errors}


def _show(slot: str, item: Any) -> Any:
    """A readable form of a slot item for the error list."""
    def movie(key: tuple) -> str:
        return key[1] if key[0] == "id" else (f"{key[0]} ({key[1]})" if key[1] else key[0])

    if slot == "movie":
        return [movie(item[0]), item[1]]
    if slot == "movie_link":
        return movie(item)
    return list(item) if isinstance(item, tuple) else item


# ---------------------------------------------------------------------------- report
def format_table(report: dict[str, Any]) -> str:
    """Per-slot P/R/F1 (support) for each part, then the intent figures."""
    parts = report["parts"]
    names = [p for p in PARTS if parts[p]["utterances"]]
    head = f"{'slot':<14}" + "".join(f"{p + ' P/R/F1 (n)':>30}" for p in names)
    lines = [head]
    for slot in (*SLOTS, "overall"):
        cells = []
        for p in names:
            c = parts[p]["overall"] if slot == "overall" else parts[p]["slots"][slot]
            cells.append("-" if c["f1"] is None else f"{c['precision']:.2f}/{c['recall']:.2f}/{c['f1']:.2f} ({c['support']})")
        lines.append(f"{slot:<14}" + "".join(f"{c:>30}" for c in cells))
    lines.append(f"{'intent acc.':<14}" + "".join(
        f"{parts[p]['intent']['accuracy']:>30.2f}" for p in names))
    lines.append(f"{'intent set F1':<14}" + "".join(
        f"{parts[p]['intent']['multi_label']['f1']:>30.2f}" for p in names))
    return "\n".join(lines)


def plot_slot_f1(report: dict[str, Any], path: Path) -> Path:
    """Bar plot of per-slot F1, one bar per part, as a PNG (Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    parts = [p for p in PARTS if report["parts"][p]["utterances"]]
    labels = [*SLOTS, "overall", "intent"]
    figure = Figure(figsize=(9.5, 4.2), dpi=110)
    axes = figure.subplots()
    width = 0.8 / len(parts)
    for k, part in enumerate(parts):
        doc = report["parts"][part]
        values = [doc["slots"][s]["f1"] or 0.0 for s in SLOTS] + [doc["overall"]["f1"] or 0.0, doc["intent"]["accuracy"]]
        axes.bar([i + (k - (len(parts) - 1) / 2) * width for i in range(len(labels))], values, width,
                 label=f"{part} (n={doc['utterances']})")
    axes.set_xticks(range(len(labels)))
    axes.set_xticklabels(labels, rotation=35, ha="right", fontsize=8)
    axes.set_ylabel("F1 (intent: accuracy)")
    axes.set_ylim(0, 1)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title("Rule NLU on the labelled set, per slot", fontsize=9)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path


def load_index(store_dir: Path, data_dir: Path, echo: Callable[[str], None] = lambda _: None) -> tuple[MovieIndex, str]:
    """The corpus movie table of ``store_dir``; without a built store, the ReDial movies
    read from ``data_dir`` (no MovieLens long tail). Returns the index and what it is."""
    from crs.catalog import store_files

    if (Path(store_dir) / store_files.TABLE).exists():
        return MovieIndex(store_files.read_table(Path(store_dir))), f"store {store_dir}"
    from crs.corpus.merge import load_movies

    echo(f"no movie table in {store_dir}; using the ReDial movies of {data_dir} (run 'crs corpus build' for the full corpus)")
    return MovieIndex(load_movies(Path(data_dir), include_movielens=False)), f"ReDial movies of {data_dir}"

