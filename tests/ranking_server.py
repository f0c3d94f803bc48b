"""A fake OpenAI-compatible *ranking* model on 127.0.0.1, for the stage-2 and RL tests.

It reads the candidate ids from the prompt (``id: description`` lines after
"Candidates:") and answers the grounded-ranking JSON with those ids in reverse order,
preceded by two entries that must be discarded: an id that was never offered and an
invented title. So a test can check that the order is used, the inventions are dropped
and counted, and that requests go over real HTTP through the real OpenAI client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fake_openai_server import FakeOpenAIServer

INVENTED = ({"id": "99999999", "reason": "not a candidate"}, {"id": "Titanic (1997)", "reason": "made up"})


def candidate_ids(prompt: str) -> list[str]:
    """The ids of the ``id: description`` lines after "Candidates:"."""
    _, _, block = prompt.partition("Candidates:\n")
    return [line.split(":", 1)[0].strip() for line in block.splitlines() if ":" in line]


class ReversingServer(FakeOpenAIServer):
    """Answers every chat request with the offered candidates reversed (see the module docstring)."""

    def _answer(self, handler: Any, body: dict[str, Any]) -> None:
        if self.mode != "ok":
            return super()._answer(handler, body)
        prompt = body.get("messages", [{}])[-1].get("content", "")
        ranking = [*INVENTED, *({"id": i, "reason": f"Reason for {i}."} for i in reversed(candidate_ids(prompt)))]
        self.replies = [json.dumps({"ranking": ranking})]
        super()._answer(handler, body)


@contextmanager
def reversing_server(mode: str = "ok") -> Iterator[ReversingServer]:
    server = ReversingServer().start()
    server.mode = mode
    try:
        yield server
    finally:
        server.stop()
