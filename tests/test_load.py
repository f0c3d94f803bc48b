"""``crs loadtest``: concurrent sessions against the real app (a ``crs chat`` child process
on the small store) over HTTP; no errors, no cross-session leakage, latency reported."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crs.catalog import store_files
from crs.cli import build_app
from crs.ops.scripts import leaks, make_scripts


def test_scripts_are_disjoint_and_the_leak_check_catches_a_planted_leak(small_store):
    movies = store_files.read_table(small_store.store_dir)
    scripts = make_scripts(movies, 4)
    pools = [s.own_movie_labels for s in scripts]
    assert all(len(p) == 6 for p in pools) and len(set().union(*pools)) == 24
    assert len({s.person for s in scripts}) == 4
    messages = [s.message(t, []) for s in scripts for t in range(12)]
    assert len(set(messages)) > 40 and all(m.strip() for m in messages)
    own = {s.name: {"liked_movies": [s.movies[0].display], "liked_people": [s.person]} for s in scripts}
    assert leaks(scripts, own) == []
    planted = dict(own)
    planted["s00"] = {"liked_movies": [scripts[0].movies[0].display, scripts[2].movies[1].display]}
    planted["s01"] = {"liked_people": [scripts[3].person]}
    found = leaks(scripts, planted)
    assert len(found) == 2 and "s00 has movie" in found[0] and "of s02" in found[0] and "s01 has person" in found[1]


@pytest.mark.slow
def test_loadtest_command_against_the_running_app(small_store, tmp_path, monkeypatch):
    monkeypatch.setenv("CRS_ARTIFACTS_DIR", str(tmp_path / "no-artifacts"))  # the app in the child process
    out = tmp_path / "load.json"
    result = CliRunner().invoke(build_app(), [
        "loadtest", "--sessions", "4", "--turns", "4", "--concurrency", "2", "--store-dir", str(small_store.store_dir),
        "--workdir", str(tmp_path / "work"), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    run, = doc["runs"]
    assert doc["passed"] and run["passed"] and run["turn_concurrency"] == 2
    assert run["turns_answered"] == 16 and run["errors"] == 0 and run["leaks"] == 0 and run["database_checked"]
    lat = run["latency_ms"]["all"]
    assert lat["n"] == 16 and 0 < lat["p50_ms"] <= lat["p95_ms"] <= lat["max_ms"]
    assert run["app_memory"]["peak_rss_mb"] > 100 and "_series" not in run
    assert out.with_suffix(".png").stat().st_size > 1000 and "PASS" in result.output
