"""Metrics, protocols, the runner and the `evaluate` command end to end."""

from __future__ import annotations

import json
import math

import pytest
import typer
from eval_fixtures import TINY_CATALOGUE, data_dir, small_model_path, tiny_dialogue, write_jsonl
from typer.testing import CliRunner

from crs.datasets import read_samples
from crs.evaluation.cli import register
from crs.evaluation.metrics import MetricAccumulator, mrr_at, ndcg_at, rank_of, recall_at
from crs.evaluation.protocols import Protocol, excluded, keeps
from crs.evaluation.rankers import ScoringRanker
from crs.evaluation.runner import run_evaluation


def test_metrics_on_hand_computed_ranks():
    acc = MetricAccumulator((1, 10, 50))
    acc.extend([1, 3, None, 12])
    got = acc.summary()
    assert got["recall@1"] == pytest.approx(0.25)
    assert got["recall@10"] == pytest.approx(0.5)
    assert got["recall@50"] == pytest.approx(0.75)
    assert got["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / 4)  # 0.375
    assert got["mrr@10"] == pytest.approx((1 + 1 / 3) / 4)
    assert acc.recall_curve(3) == pytest.approx([0.25, 0.25, 0.5])
    assert (recall_at(None, 50), ndcg_at(11), mrr_at(10)) == (0.0, 0.0, 0.1)
    assert rank_of("b", ["a", "b"]) == 2 and rank_of("z", ["a"]) is None and rank_of(None, ["a"]) is None


class ListRanker(ScoringRanker):
    """Ranks the context mentions first (most recent first), then the catalogue in order."""

    name = "echo"

    def scores(self, sample):
        import numpy as np

        scores = np.zeros(len(self.catalogue), np.float32)
        for i, m in enumerate(sample.mentions):
            scores[self.catalogue.row[m.item_id]] = 1 + i
        return scores


def test_dedup_drops_repeats_and_excludes_context(tmp_path):
    samples = list(read_samples(write_jsonl(tmp_path / "d.jsonl", [tiny_dialogue()]), TINY_CATALOGUE))
    repeat = samples[2]  # @100 again at the last recommender message
    assert keeps(repeat, Protocol.ALL) and not keeps(repeat, Protocol.DEDUP)
    assert excluded(repeat, Protocol.DEDUP) == {"100", "200", "300"} and excluded(repeat, Protocol.ALL) == set()
    ranker = ListRanker(TINY_CATALOGUE)
    assert ranker.rank(repeat, 10, excluded(repeat, Protocol.DEDUP)) == ["400"]
    result_all = run_evaluation(samples, {"echo": ranker}, Protocol.ALL, (1, 10), TINY_CATALOGUE,
                                dataset="redial", file=tmp_path / "d.jsonl", file_format="x", progress=False)
    result_dedup = run_evaluation(samples, {"echo": ranker}, Protocol.DEDUP, (1, 10), TINY_CATALOGUE,
                                  dataset="redial", file=tmp_path / "d.jsonl", file_format="x", progress=False)
    # all: 200 (rank 2: 100 first), 300 (rank 3), 100 (rank 3: 200 was re-mentioned last), 999 (missing)
    assert result_all.variants["echo"].accumulator.ranks == [2, 3, 3, None]
    assert result_dedup.samples == 3 and result_dedup.skipped_repeats == 1
    assert result_dedup.variants["echo"].accumulator.ranks == [1, 2, None]  # 100 (context) is never ranked
    assert result_all.missing_from_catalogue == 1 and result_dedup.missing_from_catalogue == 1
    assert result_all.metrics["recall@10"] == pytest.approx(0.75)  # the missing item is a miss, not dropped


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    return app


def test_cli_reports_malformed_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(tiny_dialogue()) + "\n{oops\n", encoding="utf-8")
    result = CliRunner().invoke(_app(), ["evaluate", "--dataset", "redial", "--file", str(path), "--model",
                                         str(tmp_path / "unused.npz"), "--no-progress"])
    assert result.exit_code == 2
    assert f"{path}:2" in result.output


def test_cli_rejects_unknown_variant(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [tiny_dialogue()])
    result = CliRunner().invoke(_app(), ["evaluate", "--dataset", "opendialkg", "--file", str(path), "--variants", "ease"])
    assert result.exit_code == 2 and "choose from hybrid, cooccurrence, popularity" in result.output


@pytest.mark.slow
def test_cli_evaluates_a_slice_of_redial_valid(tmp_path):
    lines = (data_dir() / "redial" / "valid_dialogues.jsonl").read_text(encoding="utf-8").splitlines()[:50]
    sample_file = tmp_path / "valid50.jsonl"
    sample_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "report" / "r.json"
    result = CliRunner().invoke(_app(), [
        "evaluate", "--dataset", "redial", "--file", str(sample_file), "--protocol", "dedup", "--k", "1,10,50",
        "--out", str(out), "--variants", "hybrid,ease,popularity", "--model", str(small_model_path()), "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["dataset"] == "redial" and doc["protocol"] == "dedup" and doc["file"] == str(sample_file)
    assert set(doc["metrics"]) == {"recall@1", "recall@10", "recall@50", "ndcg@10", "mrr@10"}
    assert doc["samples"] == sum(1 for s in read_samples(sample_file, _redial_catalogue()) if not s.repeated)
    assert doc["missing_from_catalogue"] == 0 and doc["seconds"] > 0
    assert set(doc["variants"]) == {"hybrid", "ease", "popularity"} and doc["variant"] == "hybrid"
    assert doc["metrics"] == doc["variants"]["hybrid"]["metrics"]
    for m in doc["variants"].values():
        assert 0 <= m["metrics"]["recall@1"] <= m["metrics"]["recall@10"] <= m["metrics"]["recall@50"] <= 1
    # the learned signal must beat popularity on R@50 even when trained on 800 dialogues
    assert doc["variants"]["ease"]["metrics"]["recall@50"] > doc["variants"]["popularity"]["metrics"]["recall@50"]
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "hybrid *" in result.output and doc["command"].startswith("crs evaluate --dataset redial")


@pytest.mark.slow
def test_cli_evaluates_opendialkg_rec_turns(tmp_path):
    lines = (data_dir() / "opendialkg" / "valid_rec_turns.jsonl").read_text(encoding="utf-8").splitlines()[:150]
    sample_file = tmp_path / "odkg.jsonl"
    sample_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "o.json"
    result = CliRunner().invoke(_app(), ["evaluate", "--dataset", "opendialkg", "--file", str(sample_file),
                                         "--protocol", "all", "--out", str(out), "--variants", "hybrid,cooccurrence",
                                         "--no-progress"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["file_format"] == "rec-turns" and doc["catalogue_size"] == 3672 and doc["skipped_repeats"] == 0
    hybrid, base = (doc["variants"][v]["metrics"] for v in ("hybrid", "cooccurrence"))
    assert hybrid["recall@50"] > base["recall@50"]  # the KG lifts the cap of co-occurrence counts


def _redial_catalogue():
    from crs.datasets import load_redial_catalogue

    return load_redial_catalogue(data_dir())
