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


def read_transcript(path: Path, max_bytes: int | None = None) -> list[UserTurn]:
    """All user turns of one file, in order; raises TranscriptError naming file:line.

    ``max_bytes`` refuses larger files up front (``CRS_MAX_FILE_MB``); session names must
    be valid session ids (1-128 of A-Z a-z 0-9 _ - . :), checked here so that a bad
    name stops the replay before any turn runs.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise TranscriptError(f"{path}: the file is {size / 2**20:.1f} MiB, more than the {max_bytes / 2**20:.1f} MiB "
                                  "allowed (CRS_MAX_FILE_MB); split it into smaller files")
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TranscriptError(f"{path}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8") from None
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
    if not isinstance(data, list):
        raise TranscriptError(f"{path}:1: expected a JSON list of conversations")
    for n, conv in enumerate(data, 1):
        if not isinstance(conv, dict) or not isinstance(conv.get("turns"), list) or "session" not in conv:
            raise TranscriptError(f"{path}: conversation #{n} needs 'session' and a 'turns' list of strings")
        session = _session(conv["session"], f"{path}: conversation #{n}")
        for t in conv["turns"]:
            if not isinstance(t, str):
                raise TranscriptError(f"{path}: conversation #{n} ({session!r}) has a turn that is not a string")
            yield UserTurn(session, t)


def _session(value: object, where: str) -> str:
    """A session name from a transcript, checked like every session id."""
    from crs.storage import InvalidSessionIdError, check_session_id

    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TranscriptError(f"{where}: 'session' must be a string, got {type(value).__name__}")
    try:
        return check_session_id(str(value))
    except InvalidSessionIdError as exc:
        raise TranscriptError(f"{where}: {exc}") from None


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
            yield UserTurn(_session(obj["session"], f"{path}:{lineno}"), obj["text"])
        else:
            raise TranscriptError(f"{path}:{lineno}: expected {{\"session\", \"text\"}} or a ReDial dialogue")


def _redial_turns(path: Path, lineno: int, obj: dict) -> Iterator[UserTurn]:
    where = f"{path}:{lineno}"
    if "initiatorWorkerId" not in obj or not isinstance(obj["messages"], list):
        raise TranscriptError(f"{where}: a ReDial dialogue needs 'initiatorWorkerId' and a 'messages' list")
    seeker = obj["initiatorWorkerId"]
    session = _session(f"redial-{obj.get('conversationId', lineno)}", where)
    for index, msg in enumerate(obj["messages"]):
        if not isinstance(msg, dict) or "senderWorkerId" not in msg or not isinstance(msg.get("text"), str):
            raise TranscriptError(f"{where}: messages[{index}] needs 'senderWorkerId' and a 'text' string")
        if msg["senderWorkerId"] == seeker and msg["text"].strip():
            yield UserTurn(session, msg["text"])
