"""The example conversations of ../shared/examples, replayed through `crs replay` on a corpus
of every ReDial movie, and checked by the shared checker (hard constraints, freshness,
clarifications, nothing off-catalogue)."""

import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
CRS = str(Path(sys.executable).with_name("crs"))


@pytest.mark.slow
def test_shared_example_scenarios_pass_the_checker(redial_store, tmp_path):
    out = tmp_path / "out.jsonl"
    done = subprocess.run([CRS, "replay", str(SHARED / "examples" / "scenarios.json"), "--out", str(out),
                           "--db", f"sqlite:///{tmp_path / 'x.db'}", "--store-dir", str(redial_store.store_dir)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    check = subprocess.run([sys.executable, str(SHARED / "tools" / "check_scenarios.py"), str(out),
                            str(SHARED / "examples" / "expect.json"), str(SHARED / "data")],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
