"""Measure worded turns end to end: ``python -m crs.llm.wording_bench --backend local``.

Runs a short scripted conversation through the real service (the built corpus, a fresh
SQLite database in a temporary folder) with one conversation set to the chosen backend,
and prints one JSON object: per turn the total and LLM latency, the tokens and how the
wording ended (worded / rejected / slow / failed), then medians. Run it under
``flock /tmp/crs-heavy.lock`` on a shared machine: the local model is CPU-bound.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path

#: A conversation that reaches recommendations on the first turn and keeps asking.
MESSAGES = (
    "I loved Heat and Collateral, nothing too violent",
    "Something more recent please",
    "More like Heat",
    "Any comedies instead?",
)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m crs.llm.wording_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("template", "openai", "local"), default="local")
    parser.add_argument("--base-url", default="", help="OpenAI-compatible server (with --backend openai)")
    parser.add_argument("--model", default="", help="model name (with --backend openai)")
    parser.add_argument("--timeout", type=float, default=None, help="CRS_LLM_TIMEOUT_S for this run")
    args = parser.parse_args(argv)

    from crs.settings import apply_offline_env, load_settings

    apply_offline_env()
    from crs.wiring import build_components

    with tempfile.TemporaryDirectory(prefix="crs-wording-bench-") as tmp:
        settings = load_settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
                                 checkpoint_path=Path(tmp) / "bench.checkpoints.sqlite", llm_timeout_s=args.timeout)
        service = build_components(settings).service
        session = service.new_session()
        service.update_llm_settings(session, args.backend, args.base_url, args.model)
        turns = []
        for message in MESSAGES:
            before = dict(service.llm.outcomes)
            service.handle_turn(session, message)
            row = service.repo.last_turn(session)
            after = dict(service.llm.outcomes)
            outcome = next((k for k in after if after[k] != before.get(k, 0)), "template")
            turns.append({"latency_ms": round(row["latency_ms"], 1), "llm_latency_ms": row["llm_latency_ms"],
                          "tokens_in": row["tokens_in"], "tokens_out": row["tokens_out"],
                          "backend": row["llm_backend"], "wording": outcome})
        service.close()
    report = {
        "backend": args.backend, "timeout_s": settings.llm_timeout_s, "turns": turns,
        "median_latency_ms": statistics.median(t["latency_ms"] for t in turns),
        "median_llm_latency_ms": statistics.median(t["llm_latency_ms"] or 0 for t in turns),
        "worded": sum(t["wording"] == "worded" for t in turns),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
