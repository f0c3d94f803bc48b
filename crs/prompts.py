"""Prompt and reply templates, loaded from the ``prompts/`` folder."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path


class PromptLibrary:
    """Reply variants, reason templates and LLM prompts from files.

    Variant choice is a hash of a seed string (session and turn), so replies vary between
    turns yet a replay of the same transcript is byte-for-byte the same.
    """

    def __init__(self, prompts_dir: Path) -> None:
        if not (prompts_dir / "replies.toml").is_file():
            raise FileNotFoundError(f"prompt templates not found in {prompts_dir} (expected replies.toml)")
        self.dir = prompts_dir
        self.replies = tomllib.loads((prompts_dir / "replies.toml").read_text(encoding="utf-8"))
        self.reasons = tomllib.loads((prompts_dir / "reasons.toml").read_text(encoding="utf-8"))
        self._texts: dict[str, str] = {}

    def reply(self, key: str, seed: str = "", **values: object) -> str:
        """Fill one variant of reply ``key``."""
        variants = self.replies[key]
        if isinstance(variants, str):
            variants = [variants]
        pick = int(hashlib.sha1(f"{key}|{seed}".encode()).hexdigest(), 16) % len(variants)
        return variants[pick].format(**values)

    def reason(self, key: str, **values: object) -> str:
        return self.reasons[key].format(**values)

    def text(self, name: str) -> str:
        """A whole prompt file such as ``rerank_system.txt``."""
        if name not in self._texts:
            self._texts[name] = (self.dir / name).read_text(encoding="utf-8").strip()
        return self._texts[name]
