"""The RAR feedback loop: Plackett-Luce gradients, the update direction, and ``crs train rl``
end to end with the template judge (ground truth) and with an LLM over real HTTP."""

from __future__ import annotations

import json
import math
from itertools import permutations

import numpy as np
import pytest
import typer
from eval_fixtures import small_model_path
from typer.testing import CliRunner

from crs.evaluation.cli import register
from crs.recommender.collaborative import CollaborativeModel, Fusion
from crs.recommender.rl import (
    FusionPolicy,
    RLConfig,
    TruthJudge,
    log_prob_grad,
    make_judge,
    sample_sets,
    train_policy,
)
from crs.recommender.rl_pool import PoolContext, fused, pool_recall


def _log_pl(logits: np.ndarray, order: list[int]) -> float:
    """log P(order) under Plackett-Luce, the slow and obvious way."""
    remaining = list(range(len(logits)))
    total = 0.0
    for item in order:
        z = np.log(np.exp(logits[remaining]).sum())
        total += logits[item] - z
        remaining.remove(item)
    return total


def test_log_prob_grad_matches_finite_differences():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(2, 7, 3))                  # (B, N, P): logits = features @ theta
    theta = np.array([0.3, -0.2, 0.5])
    sets = np.array([[[3, 0, 5]], [[6, 1, 2]]])           # (B, G=1, K=3)
    logits = features @ theta
    got = log_prob_grad(logits, features, sets)[:, 0]
    for b in range(2):
        numeric = np.zeros(3)
        for p in range(3):
            step = np.zeros(3)
            step[p] = 1e-6
            up = _log_pl(features[b] @ (theta + step), list(sets[b, 0]))
            down = _log_pl(features[b] @ (theta - step), list(sets[b, 0]))
            numeric[p] = (up - down) / 2e-6
        np.testing.assert_allclose(got[b], numeric, rtol=1e-5, atol=1e-7)


def test_sample_sets_draws_distinct_items_following_the_softmax():
    rng = np.random.default_rng(0)
    logits = np.array([[3.0, 2.0, 0.0, -1.0, -5.0]])
    sets = sample_sets(logits, 2, 4000, rng)
    assert sets.shape == (1, 4000, 2) and all(a != b for a, b in sets[0])
    first = np.bincount(sets[0, :, 0], minlength=5) / 4000
    expected = np.exp(logits[0]) / np.exp(logits[0]).sum()
    np.testing.assert_allclose(first, expected, atol=0.03)
    # the probability of an ordered pair is Plackett-Luce's
    pair = np.mean([tuple(s) == (1, 0) for s in sets[0]])
    assert pair == pytest.approx(math.exp(_log_pl(logits[0], [1, 0])), abs=0.03)
    assert sum(math.exp(_log_pl(logits[0], list(p))) for p in permutations(range(5), 2)) == pytest.approx(1.0)


def _synthetic_contexts(n: int, seed: int = 0) -> list[PoolContext]:
    """Pools where the word part points at the target and the item parts are noise."""
    rng = np.random.default_rng(seed)
    contexts = []
    for i in range(n):
        parts = rng.normal(scale=0.3, size=(40, 6)).astype(np.float32)
        parts[:, 5] = 0.0
        target = int(rng.integers(40))
        parts[target, 4] += 1.5
        contexts.append(PoolContext(f"c{i}", np.arange(40, dtype=np.int32), parts, target, "Seeker: hi"))
    return contexts


def test_policy_moves_towards_the_part_the_judge_rewards():
    contexts = _synthetic_contexts(256)
    start = Fusion(words=0.05, content=0.0, popularity=0.001, decay=0.9)
    config = RLConfig(epochs=4, set_size=5, sets_per_context=8, pool_size=40, batch_size=32, learning_rate=0.1)
    learned, history = train_policy(contexts, start, TruthJudge(), config, progress=False)
    assert learned.words > 4 * start.words and learned.seeker == start.seeker and learned.decay == start.decay
    assert history[-1] > history[0]
    before, after = pool_recall(contexts, start), pool_recall(contexts, learned)
    assert after["recall@1"] > before["recall@1"] + 0.2
    policy = FusionPolicy(start)
    scores, jac = policy.scores_and_jacobian(np.stack([c.parts for c in contexts[:3]]).astype(np.float64))
    np.testing.assert_allclose(scores, fused(np.stack([c.parts for c in contexts[:3]]), start), rtol=1e-5)
    assert jac.shape == (3, 40, 4)


def test_config_and_judge_errors_are_clear():
    with pytest.raises(ValueError, match="--signal"):
        RLConfig(signal="votes")
    with pytest.raises(ValueError, match="--set-size"):
        RLConfig(set_size=500)
    with pytest.raises(ValueError, match="needs an LLM backend"):
        make_judge(RLConfig(signal="llm"), None, "s", ("1",), ("A",))
    judge, stats = make_judge(RLConfig(), None, "s", ("1",), ("A",))
    assert isinstance(judge, TruthJudge) and stats is None and "ground truth" in judge.label


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    return app


@pytest.mark.slow
def test_train_rl_with_the_template_judge_writes_a_new_artefact(tmp_path):
    base = small_model_path()
    before = base.read_bytes()[:4096], base.with_suffix(".json").read_text()
    out = tmp_path / "collab-v1-rl.npz"
    args = ["train", "rl", "--base", str(base), "--out", str(out), "--limit", "150", "--epochs", "2", "--no-progress"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert "ground truth" in result.output and "wrote" in result.output
    meta = json.loads(out.with_suffix(".json").read_text())
    rl = meta["rl"]
    assert rl["judge"].startswith("ground truth") and rl["llm"] is None and rl["base_artefact"] == str(base)
    assert rl["contexts"] > 50 and len(rl["reward_per_epoch"]) == 2
    assert set(rl["train_contexts_recall_after"]) == {"recall@1", "recall@10", "recall@50"}
    model = CollaborativeModel.load(out)
    assert model.fusion == Fusion(**rl["learned_fusion"]) and model.fusion != Fusion(**rl["start_fusion"])
    assert (base.read_bytes()[:4096], base.with_suffix(".json").read_text()) == before  # the base is kept
    same = CliRunner().invoke(_app(), ["train", "rl", "--base", str(base), "--out", str(base), "--limit", "20"])
    assert same.exit_code == 2 and "base artefact" in same.output


@pytest.mark.slow
def test_train_rl_with_a_local_openai_server_as_the_judge(tmp_path):
    from ranking_server import reversing_server

    out = tmp_path / "rl-llm.npz"
    with reversing_server() as server:
        result = CliRunner().invoke(_app(), [
            "train", "rl", "--backend", "openai", "--llm-base-url", server.base_url, "--llm-model", "tiny",
            "--base", str(small_model_path()), "--out", str(out), "--limit", "60", "--samples", "12",
            "--epochs", "1", "--sets", "4", "--set-size", "5", "--no-progress"])
    assert result.exit_code == 0, result.output
    rl = json.loads(out.with_suffix(".json").read_text())["rl"]
    assert rl["judge"] == "LLM ranking (openai) + ground truth" and rl["contexts"] == 12
    llm = rl["llm"]
    assert llm["llm_calls"] == len(server.requests) == 12 and llm["answered"] == 12
    assert llm["discarded"] == 24  # the unknown id and the invented title of every answer
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "Conversation:" in prompt and "Candidates:" in prompt and server.requests[0]["model"] == "tiny"
