"""The no-model backend: the product's default and the fallback of every other backend."""

from __future__ import annotations

from collections.abc import Iterator

from crs.llm.base import Completion, UsageCallback


class TemplateBackend:
    """Deterministic "backend" that declines every request.

    Returning None tells callers to render their own template (``prompts/``), so replies
    are reproducible, instant and work offline. It never raises.
    """

    name = "template"

    def complete(self, system: str, user: str, *, json_mode: bool = False, max_tokens: int = 300,
                 timeout_s: float | None = None) -> Completion | None:
        return None

    def stream(self, system: str, user: str, *, max_tokens: int = 300,
               timeout_s: float | None = None, on_usage: UsageCallback | None = None) -> Iterator[str]:
        return iter(())
