"""Two clients sending turns of ONE session at the same moment, and what must hold after.

Used against two ChatService instances with their own database engines and checkpoint
connections (SQLite files: tests/test_service_session_lock.py; PostgreSQL:
tests/test_scaleout_session_lock.py) and against two ``crs chat`` worker processes over
HTTP (tests/test_scaleout_e2e.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

#: One liked genre per message, so every turn's contribution can be looked for afterwards.
PHRASES = {
    "westerns": "western", "comedies": "comedy", "documentaries": "documentary", "musicals": "musical",
    "mysteries": "mystery", "dramas": "drama", "fantasy movies": "fantasy", "animated movies": "animation",
}

Send = Callable[[str], dict[str, Any]]


def message(phrase: str) -> str:
    return f"I like {phrase}"


def race(senders: list[Send], rounds: int) -> tuple[list[dict[str, Any]], list[BaseException]]:
    """Each sender (one per worker) sends ``rounds`` messages one after the other; before
    each message all senders wait at a barrier, so the turns arrive together.

    Returns:
        (every acknowledged turn object, every error).
    """
    phrases = list(PHRASES)
    assert len(senders) * rounds <= len(phrases), "not enough distinct phrases"
    barrier = threading.Barrier(len(senders))
    acked: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def run(n: int, send: Send) -> None:
        for r in range(rounds):
            text = message(phrases[r * len(senders) + n])
            try:
                barrier.wait(timeout=120)
                out = send(text)
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                with guard:
                    errors.append(exc)
                continue
            with guard:
                acked.append({**out, "sender": n, "round": r})

    threads = [threading.Thread(target=run, args=(n, send)) for n, send in enumerate(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    return acked, errors


def check(acked: list[dict[str, Any]], stored_texts: list[str], final_liked_genres: list[str],
          expected_turns: int, first_index: int = 0) -> None:
    """Every acknowledged turn is stored once, at the index its reply named, in one order;
    each turn saw every turn before it (its preferences include theirs); nothing is lost."""
    assert len(acked) == expected_turns, f"{len(acked)} of {expected_turns} turns acknowledged"
    by_index = sorted(acked, key=lambda t: t["turn"])
    assert [t["turn"] for t in by_index] == list(range(first_index, first_index + expected_turns)), \
        "two turns got the same index, or one was skipped"
    assert stored_texts == [t["user"] for t in by_index], "the stored order is not the acknowledged order"
    for sender in {t["sender"] for t in acked}:
        own = sorted((t for t in acked if t["sender"] == sender), key=lambda t: t["round"])
        assert [t["turn"] for t in own] == sorted(t["turn"] for t in own), "a client's turns out of order"
    seen: set[str] = set()
    for t in by_index:
        genre = PHRASES[t["user"].removeprefix("I like ")]
        liked = set(t["preferences"]["liked_genres"])
        assert seen <= liked, f"turn {t['turn']} did not see the turns before it: lacks {sorted(seen - liked)}"
        assert genre in liked, f"turn {t['turn']} lost its own preference {genre}"
        seen.add(genre)
    assert seen <= set(final_liked_genres), f"lost acknowledged preferences {sorted(seen - set(final_liked_genres))}"


def busy_session_is_refused_then_kept(a: Any, b: Any, other: Any) -> None:
    """Worker ``b`` finds the session locked by a third worker (``other``, a Repository that
    holds the lock as if mid-turn): it answers "send it again" within seconds and stores
    nothing; once the lock is released, the resent message is turn 1 with turn 0's taste."""
    import pytest

    from crs.service import SessionBusyError

    sid = "busy-session"
    a.handle_turn(sid, message("westerns"))
    release = other.lock_session(sid, timeout_s=1)
    try:
        b.session_wait_s = 0.5
        started = time.monotonic()
        with pytest.raises(SessionBusyError, match="send it again"):
            b.handle_turn(sid, message("comedies"))
        assert time.monotonic() - started < 3
        assert [t["user_text"] for t in b.repo.history(sid)] == [message("westerns")]  # nothing half-stored
    finally:
        release()
        other.close()
    again = b.handle_turn(sid, message("comedies"))  # the user sends it again
    assert again["turn"] == 1 and {"western", "comedy"} <= set(again["preferences"]["liked_genres"])
