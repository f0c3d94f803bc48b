"""The attribute-only simulated user: its script (fast, hand-made movies) and ``crs simulate``
end to end on a real store with a handful of held-out ReDial targets (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from crs.catalog.models import Movie
from crs.catalog.normalize import norm_title
from crs.nlu.lexicon import load_lexicon
from crs.simulation.runner import Episode, SimulationResult, format_table, to_dict
from crs.simulation.targets import SimTarget
from crs.simulation.user import genre_phrases, is_target, plan, say_opening, say_reveal

CRS = str(Path(sys.executable).with_name("crs"))
VALID = Path(__file__).resolve().parents[2] / "shared" / "data" / "redial" / "valid_dialogues.jsonl"

HEAT = Movie("1", "Heat", 1995, ("crime", "drama", "action"), ("Michael Mann",), ("Al Pacino", "Robert De Niro", "Val Kilmer"),
             keywords=("bank robbery", "heat", "los angeles"), popularity=40)
COUNTS = Counter({"drama": 900, "action": 500, "crime": 300})


def test_opening_names_the_rarest_genre_and_the_decade_never_the_title():
    opening, later = plan(HEAT, genre_phrases(load_lexicon()), COUNTS)
    text = say_opening(opening)
    assert text == "Hi! I'm looking for a crime movie from the 1990s."
    assert [a.kind for a in later] == ["director", "actor", "genre", "actor", "keyword", "keyword"]
    assert later[0].value == "Michael Mann" and later[1].value == "Al Pacino" and later[2].value == "action"
    said = [say_reveal(a, rejecting=True) for a in later]
    assert said[0] == "None of those. Something directed by Michael Mann."
    assert all("heat" not in norm_title(s) for s in [text, *said]), "the keyword 'heat' would give the title away"


def test_reveal_order_and_missing_facts():
    bare = Movie("2", "Obscure", None, ("drama",), ("Madonna",), ())
    opening, later = plan(bare, genre_phrases(load_lexicon()), COUNTS, order=("actor", "director", "genre"))
    assert say_opening(opening) == "Hi! I'm looking for a drama movie."
    assert later == []  # a one-word name is no name the NLU finds; no second genre
    assert say_reveal(None, rejecting=True) == "None of those. Any other ideas?"
    assert say_reveal(None, rejecting=False) == "Any other ideas?"


def test_target_is_recognised_by_id_or_as_a_duplicate_record():
    assert is_target({"id": "1", "title": "x", "year": None}, HEAT)
    assert is_target({"id": "99", "title": "Heat", "year": 1995}, HEAT)
    assert not is_target({"id": "98", "title": "Heat", "year": 1986}, HEAT)


def test_metrics_of_a_made_up_run():
    target = SimTarget("d1", HEAT, "Heat (1995)")
    result = SimulationResult([Episode(target, 2, 0, ["1"]), Episode(target, None, None, ["5"]),
                               Episode(target, 1, 3, ["7", "8", "9", "1"]), Episode(target)], turns=3)
    m = result.metrics()
    assert m["success_rate"] == 0.5 and m["mean_turns_to_success"] == 1.5
    assert m["success_by_turn"] == [0.25, 0.5, 0.5]
    assert (m["recall@1"], m["recall@3"], m["recall@5"]) == (0.25, 0.25, 0.5)
    doc = to_dict(result, "redial", "x.jsonl")
    assert doc["samples"] == 4 and len(doc["episodes"]) == 4 and "success within 3 turns" in format_table(doc)


@pytest.mark.slow
def test_crs_simulate_end_to_end_is_deterministic(small_store, tmp_path):
    def run(out: Path) -> dict:
        env = dict(os.environ, CRS_ARTIFACTS_DIR=str(small_store.artifacts_dir))
        done = subprocess.run([CRS, "simulate", "--dataset", "redial", "--file", str(VALID), "--turns", "4", "--limit", "6",
                               "--out", str(out), "--store-dir", str(small_store.store_dir), "--no-progress"],
                              capture_output=True, text=True, timeout=600, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "success within 4 turns" in done.stdout
        return json.loads(out.read_text(encoding="utf-8"))

    first, second = run(tmp_path / "a.json"), run(tmp_path / "b.json")
    for key in ("dataset", "file", "turns", "samples", "success_rate", "mean_turns_to_success", "recall@1", "recall@5"):
        assert key in first
    assert first["samples"] == 6 and 0.0 <= first["success_rate"] <= 1.0
    assert first["episodes"] == second["episodes"], "same targets, same conversations"
    by_turn = first["success_by_turn"]
    assert by_turn == sorted(by_turn) and by_turn[-1] == first["success_rate"]
    for episode in first["episodes"]:
        title = norm_title(episode["target"].rsplit(" (", 1)[0])
        assert all(title not in norm_title(t["user"]) for t in episode["transcript"]), "the user never says the title"
        assert len(episode["transcript"]) <= 4
        if episode["success_turn"] is not None:
            assert episode["target_id"] in episode["transcript"][episode["success_turn"] - 1]["shown"] or episode["rank"] is not None


@pytest.mark.parametrize("args, message", [
    (["--reveal", "title"], "--reveal"),
    (["--file", "{missing}"], "no such file"),
    (["--file", "{bad}"], "bad.jsonl:1"),
    (["--store-dir", "{nostore}"], "corpus"),
])
def test_crs_simulate_reports_bad_input(tmp_path, args, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("this is not JSON\n", encoding="utf-8")
    paths = {"missing": tmp_path / "missing.jsonl", "bad": bad, "nostore": tmp_path / "nostore"}
    base = {"--file": str(VALID), "--store-dir": str(tmp_path / "nostore")}
    base.update(dict(zip(args[::2], (a.format(**paths) for a in args[1::2]))))
    argv = [CRS, "simulate", "--dataset", "redial", *[x for kv in base.items() for x in kv]]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr.lower()
