"""``crs bench`` on the small store: it runs the app's real components and writes its JSON.

This checks the shape and the sanity of the numbers, not the speed targets (those are a
benchmark's job, on an idle machine, see docs/results.md).
"""

from __future__ import annotations

import json
import shutil

import pytest
import typer
from eval_fixtures import small_model_path
from typer.testing import CliRunner

from crs.bench import Timed, summarize_ms
from crs.evaluation.cli import register


def test_summaries_and_timing_wrapper():
    got = summarize_ms([1.0, 2.0, 3.0, 4.0, 100.0])
    assert got["n"] == 5 and got["p50_ms"] == 3.0 and got["max_ms"] == 100.0 and got["p50_ms"] <= got["p95_ms"]
    assert summarize_ms([]) == {"n": 0}

    class Stage:
        label = "x"

        def retrieve(self, value):
            return value * 2

    timed = Timed(Stage(), "retrieve")
    assert timed.retrieve(21) == 42 and timed.label == "x" and len(timed.times) == 1 and timed.times[0] >= 0


@pytest.mark.slow
def test_bench_command_on_the_small_store(small_store, tmp_path):
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    for suffix in (".npz", ".json"):
        shutil.copy(small_model_path().with_suffix(suffix), artifacts / f"collab-v1{suffix}")
    out = tmp_path / "bench.json"
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    result = CliRunner().invoke(app, [
        "bench", "--store-dir", str(small_store.store_dir), "--artifacts-dir", str(artifacts), "--max-dialogues", "15",
        "--states", "25", "--warmup", "2", "--eval-dialogues", "3", "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    rec = doc["recommendation"]
    assert rec["states"] == 25 and rec["movies_in_store"] == 800 and rec["warmup_calls"] == 2
    assert rec["collaborative_model"] == {"artefact": str(artifacts / "collab-v1.npz"), "rl_tuned": False}
    for part in ("total", "stage1_retrieve", "stage2_rerank"):
        stats = rec[part]
        assert stats["n"] >= 25 - rec["turns_without_results"] and 0 < stats["p50_ms"] <= stats["p95_ms"] <= stats["max_ms"]
    assert rec["total"]["p50_ms"] >= rec["stage1_retrieve"]["p50_ms"] * 0.5
    assert isinstance(rec["meets_targets"], bool) and doc["targets"]["p50_ms"] == 30.0
    assert rec["total_cpu_time"]["n"] == rec["total"]["n"] and len(doc["machine"]["load_average_at_start"]) == 3
    ev = doc["evaluation"]
    assert ev["dialogues"] == 3 and ev["samples"] > 0 and ev["samples_per_s"] > 0
    assert ev["projected_1342_dialogues_s"] > ev["load_s"] and set(ev["recall"]) >= {"recall@1", "recall@10", "recall@50"}
    assert doc["training"] is None and doc["peak_rss_mb"] >= doc["peak_rss_mb_after_recommendation"] > 50
    assert doc["machine"]["cpus"] >= 1 and doc["command"].startswith("crs bench")
    assert "p50" in result.output and "peak RSS" in result.output
