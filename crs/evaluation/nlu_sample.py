"""Draw the seeker utterances of the NLU labelled set (data/nlu/) reproducibly.

    python -m crs.evaluation.nlu_sample [--data-dir DIR] [--out reports/nlu-sample.jsonl]

Reads only train/valid files (ReDial ``train_dialogues.jsonl``, ``valid_dialogues.jsonl``;
OpenDialKG ``train_rec_turns.jsonl``, ``valid_rec_turns.jsonl``), never the test splits.
Each utterance is put in one stratum by crude cue words of its own (independent of the
NLU's lexicon): ``year``, ``person``, ``mood_neg``, ``genre``, ``movie`` or ``chitchat``,
rarest first, and each (source, split) draws a fixed quota per stratum with a fixed seed,
plus a few ``rare`` ones that name a language, a length or an audience
(a stratum that runs short is made up from the rest of the shuffled pool). A valid
utterance whose text also occurs in a train file is skipped (OpenDialKG repeats some).

ReDial seekers typed movies through an autocomplete that wrote ``@id``; the sampled
``text`` puts the movie's plain title (no year) in place of each ``@id``, as people type
in the app, and ``raw`` keeps the original. The labels are written by hand afterwards
(see data/nlu/README.md); this script only picks the utterances.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path
from typing import Any, Iterator

SEED = 20261123
STRATA = ("year", "person", "mood_neg", "genre", "movie", "chitchat")
#: (source, split) -> utterances per stratum, in STRATA order.
QUOTAS: dict[tuple[str, str], tuple[int, ...]] = {
    ("redial", "train"): (15, 12, 20, 22, 26, 15),
    ("opendialkg", "train"): (6, 12, 8, 8, 10, 6),
    ("redial", "valid"): (6, 5, 8, 9, 11, 6),
    ("opendialkg", "valid"): (3, 6, 4, 4, 5, 3),
}
#: Then a few more utterances about the rare slots (language, runtime, audience).
RARE_QUOTAS = {("redial", "train"): 12, ("opendialkg", "train"): 3, ("redial", "valid"): 5, ("opendialkg", "valid"): 2}

_AT = re.compile(r"@(\d+)")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b|\b\d0'?s\b|\b(?:recent|recently|newer|latest|new release|old|older|classic|"
                   r"classics|eighties|nineties|seventies|sixties|decade)\b", re.I)
_PERSON = re.compile(r"\b(?:actor|actress|actors|director|directed|starring|stars|starred|cast)\b|"
                     r"(?<=[a-z] )[A-Z][a-z]+ [A-Z][a-z]+", re.I | 0)
_MOOD_NEG = re.compile(r"\b(?:not|no|never|don'?t|dont|doesn'?t|hate|hated|dislike|without|avoid|nothing|"
                       r"violent|violence|gory|gore|dark|sad|depressing|uplifting|feel good|feel-good|light|"
                       r"lighthearted|fun|intense|twist|clever|smart|kids|family|children|daughter|son|wife|"
                       r"husband|date night|long|short|subtitles|foreign|english|spanish|french)\b", re.I)
_RARE = re.compile(r"\b(?:subtitles?|subtitled|foreign|english|spanish|french|korean|japanese|german|italian|chinese|"
                   r"bollywood|hindi|language|dubbed|long|short|hours?|minutes|runtime|kids|children|daughters?|sons?|"
                   r"teens?|teenagers?|toddlers?|grandkids|family|wife|husband|girlfriend|boyfriend|date)\b", re.I)
_GENRE = re.compile(r"\b(?:action|adventure|animated|animation|cartoons?|anime|comed(?:y|ies)|funny|romance|romantic|"
                    r"rom ?-?com|drama|dramas|horror|scary|thriller|thrillers|suspense|mystery|mysteries|sci-?fi|"
                    r"science fiction|fantasy|documentar(?:y|ies)|musicals?|western|westerns|war|crime|heist|"
                    r"superhero(?:es)?|zombies?|chick flick|biography|biopic|historical|sports?|noir|indie)\b", re.I)


def _stratum(text: str, movie_names: list[str], person_names: list[str]) -> str:
    if _YEAR.search(text):
        return "year"
    if any(p.lower() in text.lower() for p in person_names) or _PERSON.search(text):
        return "person"
    if _MOOD_NEG.search(text):
        return "mood_neg"
    if _GENRE.search(text):
        return "genre"
    if _AT.search(text) or any(m.lower() in text.lower() for m in movie_names):
        return "movie"
    return "chitchat"


def _plain_title(name: str) -> str:
    return re.sub(r"\s*\(\d{4}\)\s*$", "", name).strip()


def redial_utterances(path: Path, split: str) -> Iterator[dict[str, Any]]:
    """Every seeker message of a ReDial dialogue file, with the message before it."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            dialogue = json.loads(line)
            titles = {k: _plain_title(v) for k, v in (dialogue.get("movieMentions") or {}).items() if v}
            previous = ""
            for k, message in enumerate(dialogue["messages"]):
                raw = message["text"].strip()
                if message["senderWorkerId"] != dialogue["initiatorWorkerId"]:
                    previous = _AT.sub(lambda m: titles.get(m.group(1), m.group()), raw)
                    continue
                if not raw:
                    continue
                text = _AT.sub(lambda m: titles.get(m.group(1), m.group()), raw)
                mentions = [{"id": i, "title": (dialogue["movieMentions"] or {}).get(i, "")} for i in _AT.findall(raw)]
                yield {"uid": f"redial-{split}-{dialogue['conversationId']}-{k}", "source": "redial", "split": split,
                       "text": text, "raw": raw, "context": previous, "mentions": mentions,
                       "stratum": _stratum(raw, [], [])}


def opendialkg_utterances(path: Path, split: str, movies: set[str], people: set[str]) -> Iterator[dict[str, Any]]:
    """The user turns of OpenDialKG recommendation turns (each dialogue's turns once)."""
    seen: set[tuple[int, int]] = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            context = row["context"]
            for k in range(len(context) - 1, -1, -2):  # the user speaks right before the response
                key = (row["dialog_id"], k)
                if key in seen:
                    continue
                seen.add(key)
                text = context[k].strip()
                if not text:
                    continue
                movie_names = [e for e in row.get("entity", []) if e in movies and e.lower() in text.lower()]
                person_names = [e for e in row.get("entity", []) if e in people and e.lower() in text.lower()]
                yield {"uid": f"opendialkg-{split}-{row['dialog_id']}-{k}", "source": "opendialkg", "split": split,
                       "text": text, "raw": text, "context": context[k - 1] if k > 0 else "",
                       "mentions": [{"title": m} for m in movie_names],
                       "stratum": _stratum(text, movie_names, person_names)}


def draw(data_dir: Path, seed: int = SEED) -> list[dict[str, Any]]:
    """The sampled utterances, in a fixed order (source, split, stratum, draw)."""
    info = json.loads((data_dir / "opendialkg" / "ievalm" / "id2info.json").read_text(encoding="utf-8"))
    movies = {v["name"] for v in info.values()}
    people = {p for v in info.values() for role in ("actor", "director", "writer") for p in v.get(role, [])}
    pools = {
        ("redial", "train"): redial_utterances(data_dir / "redial" / "train_dialogues.jsonl", "train"),
        ("redial", "valid"): redial_utterances(data_dir / "redial" / "valid_dialogues.jsonl", "valid"),
        ("opendialkg", "train"): opendialkg_utterances(data_dir / "opendialkg" / "train_rec_turns.jsonl", "train", movies, people),
        ("opendialkg", "valid"): opendialkg_utterances(data_dir / "opendialkg" / "valid_rec_turns.jsonl", "valid", movies, people),
    }
    out: list[dict[str, Any]] = []
    train_texts: set[str] = set()
    for key, quota in QUOTAS.items():  # train first: valid utterances that also occur in train are skipped
        rng = random.Random(f"{seed}-{key[0]}-{key[1]}")
        texts: set[str] = set()
        pool = []
        for u in pools[key]:
            words = len(u["text"].split())
            lowered = u["text"].lower()
            if 1 <= words <= 45 and lowered not in texts and not (key[1] == "valid" and lowered in train_texts):
                texts.add(lowered)
                pool.append(u)
        if key[1] == "train":
            train_texts |= texts
        rng.shuffle(pool)
        picked: list[dict[str, Any]] = []
        for stratum, n in zip(STRATA, quota):
            picked.extend([u for u in pool if u["stratum"] == stratum][:n])
        chosen = {u["uid"] for u in picked}
        picked.extend([u for u in pool if u["uid"] not in chosen][:sum(quota) - len(picked)])  # short strata
        chosen = {u["uid"] for u in picked}
        rare = [dict(u, stratum="rare") for u in pool if u["uid"] not in chosen and _RARE.search(u["text"])]
        picked.extend(rare[:RARE_QUOTAS[key]])
        out.extend(picked)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("reports/nlu-sample.jsonl"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    rows = draw(args.data_dir, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} utterances to {args.out}")


if __name__ == "__main__":
    main()
