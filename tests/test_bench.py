"""``crs bench`` on the small store: it runs the app's real components and writes its JSON.

This checks the shape and the sanity of the numbers, not the speed targets (those are a
benchmark's job, on an idle machine, see docs/results.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

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
    name = Path(small_store.retriever_model).name  # whatever the settings call the artefact
    for suffix in (".npz", ".json"):
        shutil.copy(small_model_path().with_suffix(suffix), (artifacts / name).with_suffix(suffix))
    out = tmp_path / "bench.json"
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    result = CliRunner().invoke(app, [
        "bench", "--store-dir", str(small_store.store_dir), "--artifacts-dir", str(artifacts), "--turns", "30",
        "--warmup", "2", "--hnsw-queries", "10", "--eval-dialogues", "3", "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    size = doc["sizes"]["store"]
    assert size["turns_timed"] == 30 and size["movies_in_store"] == 800 and size["warmup_turns"] == 2
    assert size["collaborative_model"] == {"artefact": str(artifacts / name), "loaded": True}
    stages = size["stages"]
    assert stages["turn"]["n"] == stages["nlu"]["n"] == stages["graph_persistence"]["n"] == 30
    assert 0 < size["recommendation_turns"] == stages["refinement"]["n"] <= stages["retrieval"]["n"] == size["retrieval_turns"] <= 30
    for name in ("nlu", "retrieval", "refinement", "graph_persistence", "turn"):
        assert 0 < stages[name]["p50_ms"] <= stages[name]["p95_ms"] <= stages[name]["p99_ms"] <= stages[name]["max_ms"]
    # the stages are parts of the turn
    assert stages["retrieval"]["p50_ms"] < stages["turn"]["max_ms"] and stages["nlu"]["p50_ms"] < stages["turn"]["p50_ms"]
    assert size["hnsw"]["queries"] == 10 and 0.5 <= size["hnsw"]["recall_vs_exact_mean"] <= 1.0
    assert size["peak_rss_mb"] > 100 and size["cold_first_turn_ms"] > 0
    assert set(size["meets_targets"]) == {"turn_p50", "turn_p95", "recommendation_p50", "recommendation_p95"}
    assert doc["targets"]["turn_p95_ms"] == 400.0 and doc["targets"]["recommendation_p95_ms"] == 100.0
    rec = stages["recommendation"]
    assert rec["n"] == stages["refinement"]["n"] and rec["p50_ms"] >= stages["refinement"]["p50_ms"]
    assert size["stages_cpu_time"]["retrieval"]["n"] == stages["retrieval"]["n"] and size["gc_ms_per_turn"]["n"] == 30
    ev = doc["evaluation"]
    assert ev["dialogues"] == 3 and ev["samples"] > 0 and ev["samples_per_s"] > 0
    assert ev["projected_1342_dialogues_s"] > ev["load_s"] and set(ev["recall"]) >= {"recall@1", "recall@10", "recall@50"}
    assert doc["training"] is None and doc["corpus_build"] is None
    assert doc["machine"]["cpus"] >= 1 and doc["command"].startswith("crs bench")
    assert "turn p50" in result.output and "peak RSS" in result.output


def test_bench_rejects_unknown_sizes():
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    result = CliRunner().invoke(app, ["bench", "--sizes", "7k,5m", "--no-progress"])
    assert result.exit_code == 2 and "7k,87k,300k" in result.output


def test_synthetic_movies_recombine_real_ones():
    import numpy as np

    from crs.bench_stores import NOISE_SIGMA, parse_sizes, synthesize
    from crs.catalog.models import Movie

    real = [Movie(id=str(i), title=f"Title Number {i}", year=1990 + i, genres=("drama",) if i % 2 else ("comedy",),
                  directors=(f"Director {i}",), cast=(f"Actor {i}", f"Actress {i}"), plot=f"Plot {i}.", popularity=i)
            for i in range(20)]
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(20, 384)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    movies, vectors = synthesize(real, matrix, 120, seed=3)
    assert len(movies) == len(vectors) == 120 and movies[:20] == real and len({m.id for m in movies}) == 120
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5) and np.array_equal(vectors[:20], matrix)
    plots = {m.plot: i for i, m in enumerate(real)}
    for movie, vector in zip(movies[20:], vectors[20:]):
        source = plots[movie.plot]  # the plot and genres come from a real movie ...
        assert movie.genres == real[source].genres and movie.redial_id is None
        assert abs(movie.year - real[source].year) <= 3 and movie.directors[0].startswith("Director")
        # ... and the vector is that movie's, slightly moved
        cosine = float(vector @ matrix[source])
        assert 0.8 < cosine < 1.0, cosine
    assert synthesize(real, matrix, 120, seed=3)[0] == movies  # deterministic
    assert NOISE_SIGMA > 0 and parse_sizes("300k, 7k") == ["300k", "7k"]
