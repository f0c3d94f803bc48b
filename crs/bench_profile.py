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


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        raise SystemExit("usage: python -m crs.bench_profile STORE_DIR [TURNS]")
    from crs.bench_turns import answer_seeker_turns, store_components

    turns = int(args[1]) if len(args) > 1 else 80
    with store_components(args[0], prefix="crs-profile-") as (settings, components):
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
        answer_seeker_turns(settings, components, turns)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
