"""``crs crashtest``: kill -9 the real app (a ``crs chat`` child process) mid-conversation,
restart, continue; nothing acknowledged is lost and both SQLite files stay sound. Also two
app processes writing one database."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from crs.cli import build_app
from crs.ops.crashtest import CrashOptions, _Driver, integrity
from crs.preferences import Preferences
from crs.storage import Repository


def test_integrity_check_reports_a_damaged_file(tmp_path):
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (a TEXT)")
        db.executemany("INSERT INTO t VALUES (?)", [("x" * 500,) for _ in range(200)])
    assert integrity(path) == "ok"
    data = bytearray(path.read_bytes())
    data[4096: 4096 + 12] = b"\x07" * 12  # scribble over the header of the table's first page
    path.write_bytes(bytes(data))
    assert integrity(path) != "ok" and integrity(tmp_path / "none.db") == "missing"


def test_verify_flags_a_lost_acknowledged_turn(small_store, tmp_path):
    from crs.catalog import store_files

    options = CrashOptions(kills=0, turns=1, store_dir=small_store.store_dir, sessions=1)
    driver = _Driver(options, tmp_path, store_files.read_table(small_store.store_dir), print)
    repo = Repository.from_url(f"sqlite:///{driver.db}")
    sid = "crash-test-session-0001"
    repo.record_turn(sid, index=0, user_text="I loved Heat", reply="ok", phase="elicitation", intent="",
                     preferences=Preferences(), recommendations=[], latency_ms=1.0, llm_backend="template")
    repo.close()
    sqlite3.connect(driver.checkpoints).close()
    driver.session_ids["s00"] = sid
    driver.acked["s00"] = [{"turn": 0, "text": "I loved Heat", "preferences": {}}]
    driver.verify("first")
    assert driver.failures == []
    driver.acked["s00"].append({"turn": 1, "text": "and Alien", "preferences": {"liked_movies": ["Alien (1979)"]}})
    driver.verify("second")
    assert any("turn 1 of s00 is not stored" in f for f in driver.failures)
    assert any("lost acknowledged preferences ['alien (1979)']" in f for f in driver.failures)


@pytest.mark.slow
def test_crashtest_command_kills_and_resumes(small_store, tmp_path, monkeypatch):
    monkeypatch.setenv("CRS_ARTIFACTS_DIR", str(tmp_path / "no-artifacts"))
    out = tmp_path / "crash.json"
    result = CliRunner().invoke(build_app(), [
        "crashtest", "--kills", "3", "--turns", "8", "--sessions", "2", "--writer-sessions", "2",
        "--store-dir", str(small_store.store_dir), "--workdir", str(tmp_path / "work"), "--out", str(out),
        "--no-progress"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["passed"] and doc["kills"] == 3 and doc["turns_acknowledged"] == 8 and doc["failures"] == []
    assert doc["checks_after_kills"] == 4 and doc["turns_stored"] >= 8
    writers = doc["two_writers"]
    assert writers["passed"] and writers["errors"] == 0 and writers["turns_answered"] == 4 * 5
    assert set(writers["integrity"].values()) == {"ok"}
