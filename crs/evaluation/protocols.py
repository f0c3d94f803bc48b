"""The two evaluation protocols of EVALUATION.md.

``all`` keeps every sample and ranks every catalogue item. ``dedup`` drops samples
whose target was already mentioned earlier in the dialogue and never ranks an item of
the context, because repeating earlier mentions inflates accuracy (Kostric & Balog).
"""

from __future__ import annotations

from enum import StrEnum

from crs.datasets import EvalSample


class Protocol(StrEnum):
    ALL = "all"
    DEDUP = "dedup"


def keeps(sample: EvalSample, protocol: Protocol) -> bool:
    """Whether ``sample`` counts under ``protocol``."""
    return protocol is Protocol.ALL or not sample.repeated


def excluded(sample: EvalSample, protocol: Protocol) -> frozenset[str]:
    """Item ids the ranker must not return for ``sample`` under ``protocol``."""
    if protocol is Protocol.DEDUP:
        return frozenset(sample.mentioned_ids)
    return frozenset()
