"""Build the configured backend from settings (lazy imports, one branch per backend)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from typing import Any

from crs.llm.base import LLMBackend
from crs.llm.fallback import FallbackBackend


def _template(settings: Any, environ: Mapping[str, str]) -> LLMBackend:
    from crs.llm.template import TemplateBackend

    return TemplateBackend()


def _openai(settings: Any, environ: Mapping[str, str]) -> LLMBackend:
    if not getattr(settings, "llm_base_url", None):
        raise ValueError("llm_backend 'openai' needs a server URL: set CRS_LLM_BASE_URL "
                         "(e.g. http://127.0.0.1:11434/v1 for Ollama) or pass --llm-base-url")
    if importlib.util.find_spec("openai") is None:
        raise ValueError("llm_backend 'openai' needs the 'openai' package: pip install openai")
    from crs.llm.openai_backend import OpenAIBackend

    return OpenAIBackend(base_url=settings.llm_base_url, model=settings.llm_model,
                         api_key=settings.llm_api_key or environ.get("OPENAI_API_KEY"),
                         timeout_s=settings.llm_timeout_s)


def _local(settings: Any, environ: Mapping[str, str]) -> LLMBackend:
    from crs.llm.local_backend import LocalBackend, check_local_extra

    check_local_extra()  # a clear error naming the extra; the model itself loads on first use
    artifacts = getattr(settings, "artifacts_dir", None)
    return LocalBackend(model_path=getattr(settings, "llm_model_path", None), models_dir=artifacts,
                        n_threads=getattr(settings, "llm_threads", 2), timeout_s=settings.llm_timeout_s)


#: Backend name (the ``llm_backend`` setting) -> builder.
BUILDERS: dict[str, Callable[[Any, Mapping[str, str]], LLMBackend]] = {
    "template": _template,
    "openai": _openai,
    "local": _local,
}


def make_backend(settings: Any, environ: Mapping[str, str] | None = None) -> FallbackBackend:
    """The backend named by ``settings.llm_backend``, wrapped so failures use the template.

    Args:
        settings: A :class:`crs.settings.Settings` (or anything with its ``llm_*`` fields).
        environ: Where to look for ``OPENAI_API_KEY``; defaults to ``os.environ``.

    Raises:
        ValueError: Unknown backend name, or a backend that lacks its configuration.
    """
    name = getattr(settings, "llm_backend", None)
    builder = BUILDERS.get(name) if isinstance(name, str) else None
    if builder is None:
        raise ValueError(f"Unsupported LLM backend: {name!r} (choose from: {', '.join(BUILDERS)})")
    return FallbackBackend(builder(settings, os.environ if environ is None else environ))
