"""Profile stage-1 retrieval inside real chat turns: ``python -m crs.bench_profile STORE_DIR [TURNS]``.

Answers ReDial valid seeker messages through the app's ``ChatService`` on STORE_DIR (a
temporary database) with cProfile switched on only inside ``retriever.retrieve``, and prints
the functions by cumulative and by own time. Used for docs/benchmarks.md ("Why retrieval
misses its target").
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        raise SystemExit("usage: python -m crs.bench_profile STORE_DIR [TURNS]")
    from crs.bench_turns import seeker_sessions
    from crs.settings import apply_offline_env, load_settings

    apply_offline_env()
    from crs.wiring import build_components

    turns = int(args[1]) if len(args) > 1 else 80
    with tempfile.TemporaryDirectory(prefix="crs-profile-") as tmp:
        settings = load_settings(store_dir=args[0], database_url=f"sqlite:///{Path(tmp) / 'p.db'}",
                                 checkpoint_path=Path(tmp) / "p.db.checkpoints.sqlite", llm_backend="template")
        components = build_components(settings)
        profile = cProfile.Profile()
        retriever = components.recommender.retriever
        inner = retriever.retrieve

        def profiled(*a, **k):
            profile.enable()
            try:
                return inner(*a, **k)
            finally:
                profile.disable()

        retriever.retrieve = profiled
        for texts in seeker_sessions(settings.data_dir / "redial" / "valid_dialogues.jsonl", turns):
            session = components.service.new_session()
            for text in texts:
                components.service.handle_turn(session, text)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
