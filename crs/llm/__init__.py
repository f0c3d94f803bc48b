"""The LLM seam: a tiny backend interface, a template default, an OpenAI-compatible client."""

from crs.llm.base import Completion, LLMBackend, LLMError, StreamingLLMBackend
from crs.llm.factory import make_backend
from crs.llm.fallback import FallbackBackend
from crs.llm.template import TemplateBackend

__all__ = [
    "Completion",
    "FallbackBackend",
    "LLMBackend",
    "LLMError",
    "StreamingLLMBackend",
    "TemplateBackend",
    "make_backend",
]
