"""HNSW ``ef_search`` sweep on a benchmark store: ``python -m crs.bench_hnsw STORE_DIR [256,512,1024]``.

For each value: ``collection.modify(configuration={"hnsw": {"ef_search": ef}})``, then, in a
**fresh process** (Chroma keeps the ``ef`` of an index it has already loaded, so a sweep inside
one process measures the first value again and again), :func:`crs.bench_turns.hnsw_check`
(200 random stored vectors, tie-aware recall of the top 60 against exact search, and latency).
The collection is set back to ``HNSW_CONFIG``'s value at the end. Use it on the derived stores
under ``data/bench/`` only: it changes the store.
"""

from __future__ import annotations

import sys


def _check(path: str) -> dict:
    """One HNSW check of the store at ``path`` (runs in a child process)."""
    from crs.settings import apply_offline_env

    apply_offline_env()
    from crs.bench_turns import hnsw_check
    from crs.catalog import store_files as files
    from crs.catalog.store import MovieStore

    manifest = files.read_manifest(path) or {}

    class _NoEmbedder:
        model_id = manifest.get("model")
        dim = 384

    store = MovieStore.open(path, _NoEmbedder())
    ef = (store.chroma.configuration_json or {}).get("hnsw", {}).get("ef_search")
    return {"ef_search_stored": ef, **hnsw_check(store, 200)}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        raise SystemExit("usage: python -m crs.bench_hnsw STORE_DIR [EF,EF,...]")
    import multiprocessing

    from crs.settings import apply_offline_env

    apply_offline_env()
    from crs.catalog import store_files as files

    path = args[0]
    values = [int(x) for x in (args[1] if len(args) > 1 else "256,512,1024").split(",")]
    client = files.chroma_client(path)
    default = files.HNSW_CONFIG["ef_search"]
    try:
        for ef in values:
            client.get_collection("movies", embedding_function=None).modify(configuration={"hnsw": {"ef_search": ef}})
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                result = pool.apply(_check, (path,))
            print(f"ef_search {ef} (stored {result['ef_search_stored']}): recall {result['recall_vs_exact_mean']} "
                  f"(min {result['recall_vs_exact_min']}), search p50 {result['search_latency']['p50_ms']} ms, "
                  f"p95 {result['search_latency']['p95_ms']} ms", flush=True)
    finally:
        client.get_collection("movies", embedding_function=None).modify(configuration={"hnsw": {"ef_search": default}})


if __name__ == "__main__":
    main()
