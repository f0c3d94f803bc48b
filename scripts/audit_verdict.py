#!/usr/bin/env python3
"""Judge a pip-audit JSON report (scripts/audit_deps.sh): exit 1 on known vulnerabilities.

Usage: audit_verdict.py REPORT.json PIP_AUDIT_EXIT_CODE

* Vulnerabilities found: they are listed (package, version, id, fixed in) and the exit
  code is 1, so CI fails.
* The vulnerability service could not be reached (no report, or pip-audit could look up
  none of the packages: "Dependency not found on PyPI"): the audit is reported as NOT
  CHECKED and the exit code is 0, so an offline CI does not fail for that reason.
* Otherwise: "no known vulnerabilities" with the number of packages audited.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    report_path = Path(argv[1])
    tool_exit = int(argv[2]) if len(argv) > 2 else 0
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        deps = report["dependencies"]
    except (OSError, ValueError, KeyError, TypeError):
        print(f"dependency audit NOT CHECKED: pip-audit produced no report (exit {tool_exit}); "
              "the vulnerability service is probably unreachable from here")
        return 0
    vulnerable = [d for d in deps if d.get("vulns")]
    audited = [d for d in deps if "skip_reason" not in d]
    if vulnerable:
        print(f"dependency audit FAILED: {sum(len(d['vulns']) for d in vulnerable)} known vulnerabilities "
              f"in {len(vulnerable)} packages:")
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                print(f"  {dep['name']} {dep.get('version', '?')}: {vuln.get('id')} (fixed in: {fixes})")
        return 1
    if not audited:
        reasons = sorted({str(d.get("skip_reason", ""))[:80] for d in deps})
        print(f"dependency audit NOT CHECKED: none of the {len(deps)} packages could be looked up "
              f"(the vulnerability service is unreachable from here: {reasons[0] if reasons else 'no packages'})")
        return 0
    skipped = len(deps) - len(audited)
    print(f"dependency audit: no known vulnerabilities in {len(audited)} packages"
          + (f" ({skipped} could not be looked up)" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
