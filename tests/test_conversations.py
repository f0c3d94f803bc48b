"""Golden conversations (tests/conversations/) replayed through the real ``crs replay``.

Every transcript file under ``tests/conversations/transcripts/`` is replayed in ONE
``crs replay`` subprocess on a corpus of every ReDial movie; each session is then checked
with the shared checker (``../shared/tools/check_scenarios.py``, imported by path, so the
hard constraints are judged exactly as acceptance judges them) plus the extra keys below,
documented in docs/conversations.md:

  phases {turn: phase | [phases]}     the phase of those turns
  empty_at [turns]                    no recommendation shown at those turns
  reply_has [[turn, text]]            the reply contains text (case-insensitive)
  prefs_at / prefs_not_at [[turn, key, value]]   value in / not in preferences[key]
  prefs_exact_at [[turn, key, value]] preferences[key] == value (lists compared as sets)
  ref_prefs [[turn, key, index]]      preferences[key] holds item #index (-1: all) of the
                                      list shown before that turn ("seen the first one")
  why_at [turn, index]                the reply names item #index (-1: all) of that list
  year_range_at [[turn, lo, hi]]      that turn's years lie in [lo, hi]
  no_repeats (default true)           no title is shown twice in the session
  xfail "reason"                      a known failure, left for the owner of the cause
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CONVERSATIONS = HERE / "conversations"
TRANSCRIPTS = sorted((CONVERSATIONS / "transcripts").glob("*.json"))
EXPECT = json.loads((CONVERSATIONS / "expect.json").read_text(encoding="utf-8"))
SHARED = HERE.parents[1] / "shared"
CRS = str(Path(sys.executable).with_name("crs"))

SHARED_KEYS = {"from_turn", "exclude_genres", "exclude_people", "exclude_titles", "exclude_titles_from",
               "exclude_genres_from", "year_min_from", "year_range", "require_genre_share", "require_person_share",
               "fresh_at", "clarify_at", "forbid_text", "nonempty_by"}
EXTRA_KEYS = {"phases", "empty_at", "reply_has", "prefs_at", "prefs_not_at", "prefs_exact_at", "ref_prefs", "why_at",
              "year_range_at", "no_repeats", "xfail"}


def _transcripts() -> dict[str, list[str]]:
    sessions: dict[str, list[str]] = {}
    for path in TRANSCRIPTS:
        for conv in json.loads(path.read_text(encoding="utf-8")):
            assert conv["session"] not in sessions, f"{path.name}: session {conv['session']!r} defined twice"
            sessions[conv["session"]] = conv["turns"]
    return sessions


# ---------------------------------------------------------------------- fast checks of the files
def test_golden_files_are_complete_and_well_formed():
    sessions = _transcripts()
    assert len(sessions) >= 30
    assert set(sessions) == set(EXPECT), "every transcript needs expectations and vice versa"
    for name, ex in EXPECT.items():
        unknown = set(ex) - SHARED_KEYS - EXTRA_KEYS
        assert not unknown, f"{name}: unknown expectation keys {sorted(unknown)}"
        n = len(sessions[name])
        turns = [int(t) for t in ex.get("phases", {})] + list(ex.get("empty_at", [])) + list(ex.get("fresh_at", []))
        turns += [row[0] for key in ("reply_has", "prefs_at", "prefs_not_at", "prefs_exact_at", "ref_prefs", "year_range_at")
                  for row in ex.get(key, [])]
        assert all(0 <= t < n for t in turns), f"{name}: a turn index is outside 0..{n - 1}"
    paste = [t for turns in sessions.values() for t in turns if t.count("\n") >= 49]
    assert paste, "one conversation pastes a 50-message chat in one turn"


# ---------------------------------------------------------------------- the replay
def _load_shared_checker():
    spec = importlib.util.spec_from_file_location("check_scenarios", SHARED / "tools" / "check_scenarios.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def replayed(redial_store, tmp_path_factory):
    """{session: [turn objects]} and {session: [failures]} for every golden conversation."""
    tmp = tmp_path_factory.mktemp("conversations")
    out = tmp / "out.jsonl"
    env = dict(os.environ, CRS_ARTIFACTS_DIR=str(redial_store.artifacts_dir))  # the same model everywhere
    done = subprocess.run([CRS, "replay", *map(str, TRANSCRIPTS), "--out", str(out), "--db", f"sqlite:///{tmp / 'c.db'}",
                           "--store-dir", str(redial_store.store_dir)], capture_output=True, text=True, timeout=1200, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    turns: dict[str, list[dict]] = defaultdict(list)
    for line in out.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        turns[record["session"]].append(record)
    checker = _load_shared_checker()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        checker.main(str(out), str(CONVERSATIONS / "expect.json"), str(SHARED / "data"))
    failures: dict[str, list[str]] = defaultdict(list)
    for line in printed.getvalue().splitlines():
        name, sep, rest = line.partition(": ")
        if sep and name in EXPECT:
            failures[name].append(f"shared checker: {rest}")
    for name, ex in EXPECT.items():
        failures[name] += extra_failures(sorted(turns.get(name, []), key=lambda r: r["turn"]), ex)
    return turns, failures


def _label(rec: dict) -> str:
    return f"{rec['title']} ({rec['year']})" if rec.get("year") else rec["title"]


def _norm(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", title.lower())


def _pick(recs: list[dict], index: int) -> list[dict]:
    return list(recs) if index == -1 else recs[index:index + 1]


def extra_failures(ts: list[dict], ex: dict) -> list[str]:
    """Failures of the extra keys (see the module docstring) in one session's turns."""
    fails: list[str] = []
    last_list: list[list[dict]] = []  # the list shown before each turn
    shown, current = set(), []
    for t in ts:
        last_list.append(current)
        recs = t.get("recommendations") or []
        if recs:
            current = recs
        names = {_norm(r["title"]) for r in recs}
        if ex.get("no_repeats", True) and names & shown:
            fails.append(f"turn {t['turn']}: shows again {sorted(names & shown)}")
        shown |= names
    by_turn = {t["turn"]: t for t in ts}

    def turn(i: int) -> dict:
        if i not in by_turn:
            fails.append(f"turn {i}: no output")
        return by_turn.get(i, {"reply": "", "recommendations": [], "preferences": {}, "phase": None})

    for i, want in ex.get("phases", {}).items():
        got = turn(int(i)).get("phase")
        if got not in ([want] if isinstance(want, str) else want):
            fails.append(f"turn {i}: phase {got!r}, expected {want!r}")
    for i in ex.get("empty_at", []):
        if turn(i)["recommendations"]:
            fails.append(f"turn {i}: shows {[r['title'] for r in turn(i)['recommendations']]}, expected nothing")
    for i, text in ex.get("reply_has", []):
        if text.lower() not in turn(i)["reply"].lower():
            fails.append(f"turn {i}: reply lacks {text!r}")
    for key, wanted in (("prefs_at", True), ("prefs_not_at", False)):
        for i, field, value in ex.get(key, []):
            got = turn(i)["preferences"].get(field)
            present = value in got if isinstance(got, list) else got == value
            if present != wanted:
                fails.append(f"turn {i}: preferences[{field!r}] = {got!r}, expected {'' if wanted else 'no '}{value!r}")
    for i, field, value in ex.get("prefs_exact_at", []):
        got = turn(i)["preferences"].get(field)
        same = sorted(got) == sorted(value) if isinstance(value, list) and isinstance(got, list) else got == value
        if not same:
            fails.append(f"turn {i}: preferences[{field!r}] = {got!r}, expected {value!r}")
    for i, field, index in ex.get("ref_prefs", []):
        before = last_list[i] if i < len(last_list) else []
        missing = [_label(r) for r in _pick(before, index) if _label(r) not in (turn(i)["preferences"].get(field) or [])]
        if not before or missing:
            fails.append(f"turn {i}: preferences[{field!r}] lacks {missing or 'the referred movie'}")
    if "why_at" in ex:
        i, index = ex["why_at"]
        before = last_list[i] if i < len(last_list) else []
        missing = [r["title"] for r in _pick(before, index) if r["title"].lower() not in turn(i)["reply"].lower()]
        if not before or missing:
            fails.append(f"turn {i}: the explanation does not name {missing or 'the referred movie'}")
    for i, lo, hi in ex.get("year_range_at", []):
        bad = [_label(r) for r in turn(i)["recommendations"] if r.get("year") is not None and not lo <= r["year"] <= hi]
        if bad:
            fails.append(f"turn {i}: outside {lo}-{hi}: {bad}")
    return fails


def _params():
    for name, ex in EXPECT.items():
        marks = [pytest.mark.xfail(reason=ex["xfail"], strict=True)] if ex.get("xfail") else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.slow
@pytest.mark.parametrize("session", list(_params()))
def test_golden_conversation(replayed, session):
    turns, failures = replayed
    assert turns.get(session), f"{session}: no output"
    assert not failures[session], f"{session}: " + "; ".join(failures[session])
