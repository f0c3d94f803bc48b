"""Shared settings and the generated-input counter of the fuzz tests (tests/test_fuzz_*.py).

Every property test wraps its body in :func:`counted`, which adds one to a per-test tally
each time Hypothesis calls it with a generated input. ``tests/conftest.py`` prints the
total at the end of the run and writes it to ``reports/fuzz-examples.json`` so that the
"at least 10,000 generated inputs" claim of issue 6 can be checked from any CI log:

    .venv/bin/pytest tests/test_fuzz_nlu.py tests/test_fuzz_inputs.py tests/test_fuzz_graph.py

Runs are reproducible (``derandomize=True``, no example database). ``CRS_FUZZ_SCALE=10``
multiplies every example budget for a deeper local run.
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from hypothesis import HealthCheck, settings

#: Generated inputs the whole fuzz suite must execute (issue 6, item 4).
REQUIRED_TOTAL = 10_000

#: Generated inputs executed so far in this pytest process, by test name.
COUNTS: Counter[str] = Counter()


def scale() -> float:
    try:
        return max(0.01, float(os.environ.get("CRS_FUZZ_SCALE", "1")))
    except ValueError:
        return 1.0


def fuzz_settings(max_examples: int) -> settings:
    """Cheap, reproducible Hypothesis settings with ``max_examples`` (times CRS_FUZZ_SCALE)."""
    return settings(
        max_examples=max(1, int(max_examples * scale())),
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                               HealthCheck.data_too_large, HealthCheck.filter_too_much,
                               HealthCheck.large_base_example],
    )


def counted(test: Callable[..., Any]) -> Callable[..., Any]:
    """Count each call of a property test body (one generated input each)."""

    name = test.__qualname__.split(".<locals>")[0] if ".<locals>" in test.__qualname__ else test.__name__

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        COUNTS[name] += 1
        return test(*args, **kwargs)

    return wrapper


def total() -> int:
    return sum(COUNTS.values())


def report_lines() -> list[str]:
    """The summary printed at the end of a pytest run (empty when no fuzz test ran)."""
    if not COUNTS:
        return []
    lines = [f"  {name}: {n}" for name, n in sorted(COUNTS.items())]
    return [f"fuzz: {total()} generated inputs over {len(COUNTS)} properties "
            f"(tests/test_fuzz_*.py together must run at least {REQUIRED_TOTAL:,})",
            *lines]


def write_report(path: Path) -> None:
    if not COUNTS:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"total": total(), "required": REQUIRED_TOTAL, "by_test": dict(sorted(COUNTS.items())),
                                "scale": scale()}, indent=2) + "\n", encoding="utf-8")
