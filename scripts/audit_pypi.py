#!/usr/bin/env python3
"""Fallback vulnerability lookup for scripts/audit_deps.sh when pip-audit's service is unreachable.

Usage: audit_pypi.py REQUIREMENTS.txt REPORT.json

pip-audit asks PyPI's per-release endpoint (``/pypi/NAME/VERSION/json``); some networks
(this project's CI among them) only let the per-project endpoint (``/pypi/NAME/json``)
through. That endpoint lists the known vulnerabilities of the project's *latest* release.
So, for every ``name==version`` pin:

* pinned version == latest release: its vulnerabilities are those of our version, and are
  reported (withdrawn advisories dropped);
* pinned version older than the latest: not checked (PyPI does not tell us through this
  endpoint whether an older release is affected); the report says so per package;
* the endpoint cannot be reached: not checked, with the error.

The report has pip-audit's JSON shape (``dependencies[{name, version, vulns | skip_reason}]``)
so ``scripts/audit_verdict.py`` judges both the same way.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

PYPI = os.environ.get("CRS_AUDIT_PYPI_URL", "https://pypi.org/pypi/{name}/json")  # overridable for tests
TIMEOUT_S = 20


def read_pins(path: Path) -> list[tuple[str, str]]:
    """``name==version`` lines of a ``pip freeze`` file (other lines are ignored)."""
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            pins.append((name.strip(), version.split(";", 1)[0].strip()))
    return pins


def judge(name: str, version: str, project: dict) -> dict:
    """One pip-audit style dependency entry from PyPI's project JSON."""
    latest = str(project.get("info", {}).get("version", ""))
    if latest != version:
        return {"name": name, "version": version,
                "skip_reason": f"pinned {version} is older than the latest release {latest}: "
                               "PyPI's project endpoint lists vulnerabilities of the latest release only"}
    vulns = [{"id": v.get("id"), "fix_versions": list(v.get("fixed_in") or []),
              "aliases": list(v.get("aliases") or []), "description": (v.get("details") or v.get("summary") or "")[:300]}
             for v in project.get("vulnerabilities") or [] if not v.get("withdrawn")]
    return {"name": name, "version": version, "vulns": vulns}


def lookup(name: str, version: str) -> dict:
    try:
        with urllib.request.urlopen(PYPI.format(name=name), timeout=TIMEOUT_S) as response:
            project = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return {"name": name, "version": version, "skip_reason": f"PyPI project endpoint unreachable: {exc}"[:200]}
    return judge(name, version, project)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    pins = read_pins(Path(argv[1]))
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        deps = list(pool.map(lambda pin: lookup(*pin), pins))
    Path(argv[2]).write_text(json.dumps({"source": "pypi-project-json", "dependencies": deps}, indent=1),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
