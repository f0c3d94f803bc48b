"""Read dialogue transcripts in the three replay formats and feed them through the bot.

Formats (detected per file):
  (a) JSONL lines ``{"session": "s1", "text": "..."}``
  (b) a JSON list ``[{"session": "s1", "turns": ["...", ...]}]``
  (c) ReDial dialogue JSONL (official format): the seeker's messages are replayed, in
      a session named ``redial-<conversationId>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class TranscriptError(ValueError):
    """A transcript file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class UserTurn:
    session: str
    text: str


def read_transcript(path: Path) -> list[UserTurn]:
    """All user turns of one file, in order; raises TranscriptError naming file:line."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TranscriptError(f"{path}: cannot read ({exc})") from exc
    if not raw.strip():
        raise TranscriptError(f"{path}: the file is empty")
    if raw.lstrip().startswith("["):
        return list(_read_list(path, raw))
    return list(_read_jsonl(path, raw))


def _read_list(path: Path, raw: str) -> Iterator[UserTurn]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from exc
    for n, conv in enumerate(data, 1):
        if not isinstance(conv, dict) or not isinstance(conv.get("turns"), list) or "session" not in conv:
            raise TranscriptError(f"{path}: conversation #{n} needs 'session' and a 'turns' list of strings")
        for t in conv["turns"]:
            if not isinstance(t, str):
                raise TranscriptError(f"{path}: conversation {conv['session']!r} has a turn that is not a string")
            yield UserTurn(str(conv["session"]), t)


def _read_jsonl(path: Path, raw: str) -> Iterator[UserTurn]:
    for lineno, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise TranscriptError(f"{path}:{lineno}: expected a JSON object")
        if "messages" in obj:
            yield from _redial_turns(path, lineno, obj)
        elif "session" in obj and isinstance(obj.get("text"), str):
            yield UserTurn(str(obj["session"]), obj["text"])
        else:
            raise TranscriptError(f"{path}:{lineno}: expected {{\"session\", \"text\"}} or a ReDial dialogue")


def _redial_turns(path: Path, lineno: int, obj: dict) -> Iterator[UserTurn]:
    try:
        seeker = obj["initiatorWorkerId"]
        session = f"redial-{obj.get('conversationId', lineno)}"
        for msg in obj["messages"]:
            if msg["senderWorkerId"] == seeker and str(msg["text"]).strip():
                yield UserTurn(session, str(msg["text"]))
    except (KeyError, TypeError) as exc:
        raise TranscriptError(f"{path}:{lineno}: ReDial dialogue without {exc}") from exc
