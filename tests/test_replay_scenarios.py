"""The blind-written scenario conversations of tests/scenarios/ (issue #4 acceptance
rehearsal), replayed through the real ``crs replay`` on the store of every ReDial movie and
judged by the shared checker (``../shared/tools/check_scenarios.py``, imported by path, so
the hard constraints are judged exactly as acceptance judges them).

One replay subprocess for all sessions (~15 s on the ``redial_store`` fixture, which the
golden-conversation and shared-example tests build anyway); one test per session.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios" / "scenarios.json"
EXPECT_FILE = HERE / "scenarios" / "expect.json"
EXPECT = json.loads(EXPECT_FILE.read_text(encoding="utf-8"))
SHARED = HERE.parents[1] / "shared"
CRS = str(Path(sys.executable).with_name("crs"))
CHECKER_KEYS = {"from_turn", "exclude_genres", "exclude_people", "exclude_titles", "exclude_titles_from",
                "exclude_genres_from", "year_min_from", "year_range", "require_genre_share", "require_person_share",
                "fresh_at", "clarify_at", "forbid_text", "nonempty_by"}

#: Sessions that fail for a cause outside the dialogue, with the reason (not strict: they
#: pass once the cause is fixed). Everything else must pass.
KNOWN = {
    "hc-start-over": "ReDial-only test store: the checker's catalogue also holds MovieLens's horror "
                     "'Frozen (2010)', a namesake this store lacks; passes on the full corpus",
}


def test_scenario_files_are_complete_and_use_only_checker_keys():
    sessions = {c["session"]: c["turns"] for c in json.loads(SCENARIOS.read_text(encoding="utf-8"))}
    assert len(sessions) >= 35
    assert set(sessions) == set(EXPECT), "every scenario needs expectations and vice versa"
    for name, ex in EXPECT.items():
        assert not set(ex) - CHECKER_KEYS, f"{name}: keys the shared checker does not know: {set(ex) - CHECKER_KEYS}"
    assert set(KNOWN) <= set(EXPECT)


@pytest.fixture(scope="module")
def failures(redial_store, tmp_path_factory) -> dict[str, list[str]]:
    """{session: [failure lines of the shared checker]} for every scenario."""
    checker_path = SHARED / "tools" / "check_scenarios.py"
    assert checker_path.is_file(), f"the shared checker is missing: expected {checker_path} (check out ../shared)"
    tmp = tmp_path_factory.mktemp("scenarios")
    out = tmp / "out.jsonl"
    env = dict(os.environ, CRS_ARTIFACTS_DIR=str(redial_store.artifacts_dir))
    done = subprocess.run([CRS, "replay", str(SCENARIOS), "--out", str(out), "--db", f"sqlite:///{tmp / 's.db'}",
                           "--store-dir", str(redial_store.store_dir)], capture_output=True, text=True, timeout=900,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    spec = importlib.util.spec_from_file_location("check_scenarios", checker_path)
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        checker.main(str(out), str(EXPECT_FILE), str(SHARED / "data"))
    found: dict[str, list[str]] = defaultdict(list)
    for line in printed.getvalue().splitlines():
        name, sep, rest = line.partition(": ")
        if sep and name in EXPECT:
            found[name].append(rest)
    assert printed.getvalue().strip().splitlines()[-1].startswith("scenarios passed"), printed.getvalue()[-2000:]
    return found


def _params():
    for name in EXPECT:
        marks = [pytest.mark.xfail(reason=KNOWN[name], strict=False)] if name in KNOWN else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.slow
@pytest.mark.parametrize("session", list(_params()))
def test_blind_scenario(failures, session):
    assert not failures.get(session), f"{session}: " + "; ".join(failures[session])
