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
from scripted_llm import ScriptedBackend


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
    # 95% intervals, resampling whole dialogues, around every figure; paired differences to the primary
    dialogues = {s.dialog_id for s in read_samples(sample_file, _redial_catalogue()) if not s.repeated}
    assert doc["uncertainty"]["dialogues"] == len(dialogues) and doc["uncertainty"]["resamples"] == 1000
    for name, variant in doc["variants"].items():
        for metric, value in variant["metrics"].items():
            low, high = variant["interval95"][metric]
            assert low <= value <= high
        assert ("vs_primary" in variant) == (name != "hybrid")
    assert "95% intervals, bootstrap over" in result.output and "hybrid − popularity: recall@1" in result.output


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


# --------------------------------------------------------------------------- stage 2 (hybrid+llm)


def _ranking(*ids):
    return json.dumps({"ranking": [{"id": i, "reason": f"because {i}"} for i in ids]})


def test_parse_ranking_keeps_offered_ids_only():
    from crs.recommender.grounded import Status, apply_order, parse_ranking

    got = parse_ranking('Sure! {"ranking": [{"id": "3"}, {"id": "Titanic"}, {"id": 1}, {"id": "3"}, "2"]} hope it helps',
                        {"1", "2", "3"})
    assert got.order == ("3", "1", "2") and got.discarded == 1 and got.status is Status.OK
    assert apply_order(["1", "2", "3", "4"], got) == ["3", "1", "2", "4"]
    for bad in ("no json", '{"ranking": "x"}', '{"other": []}', _ranking("7", "8")):
        assert parse_ranking(bad, {"1"}).status is Status.UNPARSEABLE
    assert parse_ranking(_ranking("7", "8"), {"1"}).discarded == 2
    assert apply_order(["1", "2"], parse_ranking("no json", {"1"})) == ["1", "2"]


def test_grounded_ranker_caches_counts_and_falls_back(tmp_path):
    from crs.llm import FallbackBackend, LLMError, TemplateBackend
    from crs.recommender.grounded import GroundedRanker, RankingCache, Status

    cands = [("1", "A (2000)"), ("2", "B (2001)"), ("3", "C (2002)")]
    backend = ScriptedBackend([_ranking("3", "42", "1")])
    ranker = GroundedRanker(backend, "system", RankingCache(tmp_path / "cache.sqlite"), "m")
    first = ranker.rank("Seeker: hi", cands)
    assert first.order == ("3", "1") and first.discarded == 1 and first.status is Status.OK
    again = ranker.rank("Seeker: hi", cands)
    assert again.status is Status.CACHED and again.order == ("3", "1") and backend.calls == 1
    # the disk cache survives a new ranker (a re-run costs no call); another context is a miss
    fresh = GroundedRanker(ScriptedBackend([]), "system", RankingCache(tmp_path / "cache.sqlite"), "m")
    assert fresh.rank("Seeker: hi", cands).status is Status.CACHED and fresh.stats.llm_calls == 0
    stats = ranker.stats.to_dict()
    assert (stats["requests"], stats["llm_calls"], stats["answered"], stats["cache_hits"], stats["discarded"]) == (2, 1, 1, 1, 1)
    failing = FallbackBackend(ScriptedBackend([LLMError("down")]))
    assert GroundedRanker(failing, "s").rank("x", cands).status is Status.FAILED
    assert GroundedRanker(TemplateBackend(), "s").rank("x", cands).status is Status.NO_MODEL
    garbage = GroundedRanker(ScriptedBackend(["not json"]), "s")
    assert garbage.rank("x", cands).status is Status.UNPARSEABLE and garbage.stats.unparseable == 1


def test_llm_refined_ranker_reorders_only_the_top_k(tmp_path):
    from crs.evaluation.llm_variant import LLMRefinedRanker
    from crs.recommender.grounded import GroundedRanker

    catalogue = TINY_CATALOGUE
    sample = next(iter(read_samples(write_jsonl(tmp_path / "d.jsonl", [tiny_dialogue()]), catalogue)))

    class Fixed(ScoringRanker):
        def scores(self, sample):
            import numpy as np

            return np.array([4, 3, 2, 1], np.float32)  # 100, 200, 300, 400

    llm = ScriptedBackend([_ranking("300", "Heat (1995)", "200")])
    ranker = LLMRefinedRanker(Fixed(catalogue), GroundedRanker(llm, "s"), {"200": "It Follows (2014) | genres: horror"}, top=3)
    assert ranker.rank(sample, 4, frozenset()) == ["300", "200", "100", "400"]  # 400 stays outside the window
    assert ranker.rank(sample, 2, frozenset()) == ["300", "200"] and llm.calls == 1  # same context + candidates: cached
    report = ranker.report()
    assert (report["reordered"], report["discarded"], report["cache_hits"], report["top_k"]) == (2, 1, 1, 3)
    silent = LLMRefinedRanker(Fixed(catalogue), GroundedRanker(ScriptedBackend([None]), "s"), {}, top=3)
    assert silent.rank(sample, 4, frozenset({"200"})) == ["100", "300", "400"]  # no model: stage 1's order
    assert silent.report()["no_model"] == 1 and silent.report()["kept_stage1_order"] == 1
    with pytest.raises(ValueError, match="llm-top"):
        LLMRefinedRanker(Fixed(catalogue), GroundedRanker(llm, "s"), {}, top=1)


def _slice(tmp_path, n=6):
    lines = (data_dir() / "redial" / "valid_dialogues.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    path = tmp_path / f"valid{n}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _evaluate_llm(tmp_path, name, *extra):
    out = tmp_path / f"{name}.json"
    result = CliRunner().invoke(_app(), [
        "evaluate", "--dataset", "redial", "--file", str(_slice(tmp_path)), "--variants", "hybrid,hybrid+llm",
        "--model", str(small_model_path()), "--out", str(out), "--no-progress", "--llm-top", "10", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text()), result.output


@pytest.mark.slow
def test_hybrid_llm_with_template_backend_equals_hybrid(tmp_path):
    doc, output = _evaluate_llm(tmp_path, "template", "--llm-backend", "template")
    llm = doc["variants"]["hybrid+llm"]["llm"]
    assert doc["variants"]["hybrid+llm"]["metrics"] == doc["variants"]["hybrid"]["metrics"]
    assert llm["backend"] == "template" and llm["no_model"] == llm["requests"] == doc["samples"] > 0
    assert llm["reordered"] == 0 and llm["kept_stage1_order"] == llm["requests"]
    assert "hybrid+llm: backend=template" in output and "--llm-backend template" in doc["command"]


@pytest.mark.slow
def test_hybrid_llm_against_a_local_openai_server_reorders_discards_and_caches(tmp_path):
    from ranking_server import reversing_server

    cache = tmp_path / "answers.sqlite"
    with reversing_server() as server:
        args = ("--llm-backend", "openai", "--llm-base-url", server.base_url, "--llm-model", "tiny", "--llm-cache", str(cache))
        doc, _ = _evaluate_llm(tmp_path, "openai", *args)
        calls = len(server.requests)
        again, _ = _evaluate_llm(tmp_path, "openai-again", *args)
        assert len(server.requests) == calls  # the second run is answered from the cache file
    llm = doc["variants"]["hybrid+llm"]["llm"]
    assert llm["backend"] == "openai" and llm["model"] == "tiny" and llm["top_k"] == 10
    assert llm["answered"] == llm["llm_calls"] == calls == doc["samples"] - llm["cache_hits"]
    assert llm["discarded"] == 2 * llm["answered"]  # one unknown id and one invented title per answer
    assert llm["reordered"] == llm["requests"] and llm["failed"] == llm["unparseable"] == 0
    # reversing the top 10 moves every hit in it: R@1 changes, R@10 and R@50 cannot
    hybrid, refined = doc["variants"]["hybrid"]["metrics"], doc["variants"]["hybrid+llm"]["metrics"]
    assert refined["recall@10"] == hybrid["recall@10"] and refined["recall@50"] == hybrid["recall@50"]
    assert refined["mrr@10"] != hybrid["mrr@10"]
    second = again["variants"]["hybrid+llm"]["llm"]
    assert second["llm_calls"] == 0 and second["cache_hits"] == second["requests"]
    assert again["variants"]["hybrid+llm"]["metrics"] == refined
    assert server.requests[0]["model"] == "tiny" and "Candidates:" in server.requests[0]["messages"][-1]["content"]


@pytest.mark.slow
def test_hybrid_llm_keeps_stage_one_order_when_the_server_fails(tmp_path):
    from ranking_server import reversing_server

    with reversing_server("error500") as server:
        doc, _ = _evaluate_llm(tmp_path, "failing", "--llm-backend", "openai", "--llm-base-url", server.base_url)
    llm = doc["variants"]["hybrid+llm"]["llm"]
    assert llm["failed"] == llm["requests"] > 0 and llm["reordered"] == 0
    assert doc["variants"]["hybrid+llm"]["metrics"] == doc["variants"]["hybrid"]["metrics"]


def test_openai_backend_without_url_is_a_clear_error(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [tiny_dialogue()])
    result = CliRunner().invoke(_app(), ["evaluate", "--dataset", "redial", "--file", str(path), "--variants",
                                         "hybrid+llm", "--llm-backend", "openai", "--model", str(tmp_path / "x.npz")])
    assert result.exit_code == 2 and "CRS_LLM_BASE_URL" in result.output
