"""The dependency audit of scripts/audit_deps.sh (issue 6, item 6): its verdict, the list of
reviewed and accepted vulnerabilities, and the PyPI per-project fallback lookup, against a real
local HTTP server that answers like PyPI's JSON API."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
VULN = {"id": "PYSEC-2014-13", "fix_versions": ["2.3.0"], "description": "x"}


def _verdict(tmp_path: Path, report: dict | None, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "audit.json"
    if report is not None:
        path.write_text(json.dumps(report), encoding="utf-8")
    return subprocess.run([sys.executable, str(SCRIPTS / "audit_verdict.py"), str(path), *args],
                          capture_output=True, text=True, timeout=60)


def _accepted(tmp_path: Path, package: str, ids: list[str]) -> str:
    path = tmp_path / f"accepted-{'-'.join(ids)}.toml"
    path.write_text(f'[[accepted]]\npackage = "{package}"\nids = {json.dumps(ids)}\nreviewed = "2026-11-23"\n'
                    'reason = "not exposed: test"\n', encoding="utf-8")
    return str(path)


def test_verdict_fails_on_vulnerabilities_and_not_on_an_unreachable_service(tmp_path: Path) -> None:
    vulnerable = {"dependencies": [{"name": "requests", "version": "2.0.0", "vulns": [VULN]},
                                   {"name": "numpy", "version": "2.4.6", "vulns": []}]}
    done = _verdict(tmp_path, vulnerable, "1")
    assert done.returncode == 1 and "FAILED" in done.stdout and "PYSEC-2014-13" in done.stdout, done.stdout
    clean = {"dependencies": [{"name": "numpy", "version": "2.4.6", "vulns": []}]}
    done = _verdict(tmp_path, clean)
    assert done.returncode == 0 and "no unaccepted known vulnerabilities in 1 packages" in done.stdout, done.stdout
    unreachable = {"dependencies": [{"name": "numpy", "skip_reason": "Dependency not found on PyPI and could not be audited"}]}
    done = _verdict(tmp_path, unreachable)
    assert done.returncode == 0 and "NOT CHECKED" in done.stdout, done.stdout
    done = _verdict(tmp_path, None, "1")  # pip-audit itself failed (no network): no report at all
    assert done.returncode == 0 and "NOT CHECKED" in done.stdout, done.stdout


def test_reachable_tells_whether_anything_was_looked_up(tmp_path: Path) -> None:
    assert _verdict(tmp_path, {"dependencies": [{"name": "a", "version": "1", "vulns": []},
                                                {"name": "b", "skip_reason": "x"}]}, "--reachable").returncode == 0
    assert _verdict(tmp_path, {"dependencies": [{"name": "b", "skip_reason": "x"}]}, "--reachable").returncode == 3
    assert _verdict(tmp_path, None, "--reachable").returncode == 3


def test_accepted_vulnerability_passes_only_while_no_fix_exists(tmp_path: Path) -> None:
    unfixed = dict(VULN, fix_versions=[])
    report = {"dependencies": [{"name": "Requests", "version": "2.0.0", "vulns": [unfixed]}]}
    accepted = _accepted(tmp_path, "requests", ["PYSEC-2014-13"])
    done = _verdict(tmp_path, report, "--accepted", accepted)
    assert done.returncode == 0 and "accepted" in done.stdout and "not exposed: test" in done.stdout, done.stdout
    done = _verdict(tmp_path, report, "--accepted", _accepted(tmp_path, "requests", ["OTHER-1"]))
    assert done.returncode == 1, done.stdout  # another id is not covered
    fixed = {"dependencies": [{"name": "requests", "version": "2.0.0", "vulns": [VULN]}]}
    done = _verdict(tmp_path, fixed, "--accepted", accepted)
    assert done.returncode == 1 and "a fixed release exists now" in done.stdout, done.stdout


def test_skipped_packages_are_named_next_to_a_verdict(tmp_path: Path) -> None:
    report = {"dependencies": [{"name": "numpy", "version": "2.4.6", "vulns": []},
                               {"name": "scipy", "version": "1.0", "skip_reason": "pinned 1.0 is older than 2.0"}]}
    done = _verdict(tmp_path, report)
    assert done.returncode == 0 and "1 of 2 packages NOT CHECKED" in done.stdout and "scipy 1.0" in done.stdout


def test_the_shipped_accepted_list_is_valid_and_explained() -> None:
    data = tomllib.loads((SCRIPTS / "audit_accepted.toml").read_text(encoding="utf-8"))
    assert data["accepted"], "an empty list should be deleted, not kept"
    for entry in data["accepted"]:
        assert entry["package"] and entry["ids"] and len(entry["reason"]) > 40 and entry["reviewed"]


class _FakePyPI(http.server.BaseHTTPRequestHandler):
    projects = {
        "latestpkg": {"info": {"version": "1.0"}, "vulnerabilities": [
            {"id": "GHSA-aaaa", "fixed_in": [], "aliases": ["CVE-1"], "details": "bad", "withdrawn": None},
            {"id": "GHSA-gone", "fixed_in": [], "details": "withdrawn", "withdrawn": "2026-01-01"}]},
        "oldpkg": {"info": {"version": "3.0"}, "vulnerabilities": []},
    }

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        name = self.path.strip("/").split("/")[1] if self.path.startswith("/pypi/") else ""
        body = self.projects.get(name)
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(json.dumps(body or {"message": "Not Found"}).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def fake_pypi() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakePyPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/pypi/{{name}}/json"
    server.shutdown()


def test_pypi_fallback_reports_latest_release_vulnerabilities_and_skips_older_pins(tmp_path: Path, fake_pypi: str) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("latestpkg==1.0\noldpkg==2.0\nmissingpkg==0.1\n-e file:///x\n", encoding="utf-8")
    report = tmp_path / "audit.json"
    env = dict(os.environ, CRS_AUDIT_PYPI_URL=fake_pypi)
    done = subprocess.run([sys.executable, str(SCRIPTS / "audit_pypi.py"), str(requirements), str(report)],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    deps = {d["name"]: d for d in json.loads(report.read_text())["dependencies"]}
    assert [v["id"] for v in deps["latestpkg"]["vulns"]] == ["GHSA-aaaa"]  # the withdrawn one is dropped
    assert "older than the latest release 3.0" in deps["oldpkg"]["skip_reason"]
    assert "unreachable" in deps["missingpkg"]["skip_reason"]
    verdict = subprocess.run([sys.executable, str(SCRIPTS / "audit_verdict.py"), str(report)],
                             capture_output=True, text=True, timeout=60)
    assert verdict.returncode == 1 and "latestpkg 1.0: GHSA-aaaa" in verdict.stdout, verdict.stdout
    assert "2 of 3 packages NOT CHECKED" in verdict.stdout
