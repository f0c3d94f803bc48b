"""A fake LLM backend for unit tests: it answers from a script, in order."""

from crs.llm import Completion


class ScriptedBackend:
    """Answers from ``answers``: a string becomes a completion, None means "no model here"
    (the template path), and an Exception entry is raised."""

    name = "scripted"

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = 0

    def complete(self, system, user, *, json_mode=False, max_tokens=300, timeout_s=None):
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return None if answer is None else Completion(text=answer, backend=self.name, latency_ms=1.0)
