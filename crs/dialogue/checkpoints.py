"""Keep LangGraph's SQLite checkpoint store small.

``SqliteSaver`` keeps every checkpoint of every step forever; a session only ever resumes
from its latest one, so after each turn all but the newest few are deleted.
"""

from __future__ import annotations


def prune_checkpoints(saver, thread_id: str, keep: int = 8) -> int:
    """Delete all but the ``keep`` newest checkpoints (and their writes) of one thread.

    Works on LangGraph's ``SqliteSaver``; other savers are left alone. Checkpoint ids are
    time-ordered (uuid6), which is also how the saver finds the latest one.

    Returns:
        How many checkpoints were deleted.
    """
    if not hasattr(saver, "cursor") or not hasattr(saver, "conn"):
        return 0
    with saver.cursor() as cur:
        cur.execute(
            "SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' "
            "ORDER BY checkpoint_id DESC LIMIT ?",
            (thread_id, keep),
        )
        kept = [row[0] for row in cur.fetchall()]
        if len(kept) < keep:
            return 0
        oldest = kept[-1]
        cur.execute("DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id < ?", (thread_id, oldest))
        deleted = cur.rowcount
        cur.execute("DELETE FROM writes WHERE thread_id = ? AND checkpoint_id < ?", (thread_id, oldest))
    return deleted
